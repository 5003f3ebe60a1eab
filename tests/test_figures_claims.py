"""The relation check (a figure on its own bullet's fact) and the claim check (work, names,
bodies, meta-text and political framing held to the bullets), with the cases where each must
stay silent."""
from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from drafting.checker import check
from drafting.config import REPO_ROOT
from drafting.flow import assemble
from drafting.flow.plan import TOPICS
from drafting.flow.request import DraftRequest, RequestError, SectionInput

FIELDS = ["东湖区总工会", "上半年", "2024年"]
FACTS = [
    "部署工资集体协商，重点推动百人以上已建会企业",
    "到武警医院等工伤定点医院探视，上半年共探视82名员工，发工伤探视慰问金41000元，协助指导后续维权",
    "新建非公企业工会8家",
    "建成职工之家12家",
    "五月底走访在建工地，了解建筑工人薪资发放、食堂和宿舍卫生",
]


def _unsupported(draft: str, facts: list[str] = FACTS) -> list[str]:
    return [u.text for u in check(draft, facts, FIELDS).unsupported]


def _claims(draft: str, facts: list[str] = FACTS, fields: list[str] = FIELDS, context: list[str] = ()) -> list[str]:
    return [c.text for c in check(draft, facts, fields, context=context).claims]


# ---- relations ------------------------------------------------------------------------------------

def test_a_figure_on_another_bullets_fact_is_reported_with_its_bullet() -> None:
    report = check("部署工资集体协商，重点推动百人以上已建会企业，涉及员工82名。", FACTS, FIELDS)
    assert [u.text for u in report.unsupported] == ["82名"]
    reason = report.unsupported[0].reason
    assert "到武警医院等工伤定点医院探视" in reason and "部署工资集体协商" in reason
    assert report.unsupported[0].fact == FACTS[1] and report.unsupported[0].misattributed and not report.ok


def test_two_swapped_figures_are_both_reported() -> None:
    report = check("新建非公企业工会12家，建成职工之家8家。", FACTS, FIELDS)
    assert [(u.text, u.source, u.fact) for u in report.unsupported] == [
        ("12家", "12家", "建成职工之家12家"), ("8家", "8家", "新建非公企业工会8家")]


def test_a_figure_restated_in_a_sentence_naming_its_activity_is_fine() -> None:
    assert _unsupported("上半年，我们深入工伤定点医院，共探视工伤员工82名，发放探视慰问金41000元。") == []
    assert _unsupported("新建非公企业工会8家，建成职工之家12家。") == []


def test_a_value_in_two_bullets_is_fine_on_either() -> None:
    facts = ["新建非公企业工会12家", "建成职工之家12家"]
    assert _unsupported("建成职工之家12家，新建非公企业工会12家。", facts) == []


def test_boilerplate_next_to_a_figure_is_fine() -> None:
    assert _unsupported("新建非公企业工会8家，切实维护了职工合法权益，受到职工好评。") == []
    assert _claims("新建非公企业工会8家，切实维护了职工合法权益，受到职工好评。") == []


def test_sentences_of_one_pasted_paragraph_are_told_apart() -> None:
    facts = ["春节期间走访慰问困难职工120户。金秋助学资助困难职工子女15名。"]
    assert check("春节期间走访慰问困难职工15户，金秋助学资助困难职工子女120名。", facts).unsupported
    assert not check("春节期间走访慰问困难职工120户，金秋助学资助困难职工子女15名。", facts).unsupported


# ---- claims -----------------------------------------------------------------------------------------

def test_invented_work_is_a_claim_and_restated_work_is_not() -> None:
    draft = "部署工资集体协商。同时，工会深入基层，开展职工法律知识培训，提高职工法治意识和维权能力。"
    report = check(draft, FACTS, FIELDS)
    assert [c.text for c in report.claims] == ["开展职工法律知识培训"] and not report.ok
    assert "要点中没有" in report.claims[0].reason
    assert draft[report.claims[0].start:report.claims[0].end] == "开展职工法律知识培训"
    # The same bullet in other words and another order is not a claim.
    assert _claims("五月底，我们深入在建工地走访，了解建筑工人的薪资发放和食堂、宿舍卫生情况。") == []


def test_invented_lists_from_a_thin_bullet_are_claims() -> None:
    facts = ["抓了五个方面工作"]
    draft = ("抓了五个方面工作：一是加强安全生产管理，二是优化资源配置，三是加强员工培训，"
             "四是加强与业主的沟通，五是加强与政府的联系。")
    assert len(_claims(draft, facts)) == 5
    padded = "通过发放生活物资、提供心理支持和健康指导等措施，积极参加各种社会公益活动。"
    assert len(_claims(padded, facts)) == 2


def test_genre_boilerplate_alone_is_never_a_claim() -> None:
    draft = ("我们始终坚持以职工为中心，切实维护了职工合法权益，增强了工会组织的凝聚力和向心力，"
             "营造了团结和谐的良好氛围，受到广大职工的一致好评，推动工会工作再上新台阶。")
    assert _claims(draft, facts=[]) == []


@pytest.mark.parametrize("org", ["东湖区总工会", "白鹭街道工会联合会", "宏达运输集团职工医院工会", "某某大学工会",
                                 "中铁某局项目部工会", "某某镇总工会"])
@pytest.mark.parametrize("year", [None, 2010, 2019, 2024, 2028])
@pytest.mark.parametrize("period", ["上半年", "全年"])
def test_the_frame_the_service_writes_carries_no_claim(year, org, period) -> None:
    """Opening and closing, the opening naming the topics of the sections below it."""
    facts = ["新建非公企业工会8家", "受理劳动争议案件15起", "慰问困难职工120户", "组织技术比武"]
    request = DraftRequest(org, period, year, [SectionInput(None, facts)])
    topics = [t for t in TOPICS if t.kind == "topic"][:4]
    opening = assemble.opening(request, [t.key for t in topics])
    assert "在组织建设、依法履职维权、帮扶解困、劳动竞赛等方面扎实推进" in opening
    text = assemble.assemble(f"{org}{year or ''}年{period}工作总结", opening,
                             [(t.heading, f"{fact}。") for t, fact in zip(topics, facts)], assemble.closing(request))
    assert check(text, request.facts, request.field_texts()).claims == []


def test_a_restated_heading_is_not_a_claim() -> None:
    text = "加强组织建设，夯实工会工作基础。新建非公企业工会8家。"
    assert _claims(text, context=["加强组织建设，夯实工会工作基础"]) == []
    assert _claims(text) == ["加强组织建设"]


def test_a_shortcoming_is_not_work_done() -> None:
    assert _claims("一是服务手段还不够多；二是规范化建设仍需加强。") == []


@pytest.mark.parametrize("text", [
    "在工会机关的文字秘书岗位上，新建非公企业工会8家。",
    "以下是本节正文的详细内容，符合公文习惯的要求。",
    "新建非公企业工会8家（原文截断）。",
])
def test_prompt_words_meta_text_and_source_notes_are_reported(text) -> None:
    report = check(text, FACTS, FIELDS)
    assert report.claims and "不是总结正文" in report.claims[0].reason


def test_names_and_bodies_must_come_from_the_bullets() -> None:
    assert _claims("会同鹏程科技有限公司开展宣传。", facts=["开展宣传"]) == ["会同鹏程科技有限公司开展宣传"]
    assert _claims("会同区卫生监督所检查中金辐照公司车间。", facts=["会同区卫生监督所检查中金辐照公司车间"]) == []
    assert _claims("组织职工参加“劳动美”摄影比赛。", facts=["组织职工参加摄影比赛"])
    assert _claims("“五一”期间组织职工参加摄影比赛。", facts=["五一期间组织职工参加摄影比赛"]) == []


def test_political_framing_is_held_to_the_bullets_the_year_and_its_era() -> None:
    body = "一、组织建设\n坚持以习近平新时代中国特色社会主义思想为指导，新建非公企业工会8家。"
    assert _claims(body)  # written by the model in a section: reported
    opening = "东湖区总工会2024年上半年工作总结\n2024年上半年，以习近平新时代中国特色社会主义思想为指导，深入学习贯彻党的二十大精神。\n" \
              "一、组织建设\n新建非公企业工会8家。"
    assert _claims(opening) == []  # the year-aware opening
    wrong_year = opening.replace("2024年", "2012年")
    reasons = [c.reason for c in check(wrong_year, FACTS, ["东湖区总工会", "上半年", "2012年"]).claims]
    assert reasons and all("年份不符" in r for r in reasons)
    mixed = "坚持以习近平新时代中国特色社会主义思想为指导，深入贯彻中国工会十五大精神。"
    found = check(mixed, [*FACTS, mixed], ["东湖区总工会", "上半年"]).claims
    assert len(found) == 2 and all("不同时期" in c.reason for c in found)
    given = ["深入学习贯彻党的十八大精神，新建非公企业工会8家"]
    assert _claims("深入学习贯彻党的十八大精神，新建非公企业工会8家。", given, ["东湖区总工会", "上半年", "2013年"]) == []


def test_the_cli_exit_code_follows_claims(tmp_path: Path) -> None:
    (tmp_path / "facts.txt").write_text("\n".join(FACTS), encoding="utf-8")
    (tmp_path / "draft.txt").write_text("新建非公企业工会8家，开展职工法律知识培训。", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "drafting", "check", "--facts", str(tmp_path / "facts.txt"),
                             "--draft", str(tmp_path / "draft.txt"), "--json"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                            env={"DRAFTING_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert not data["ok"] and data["unsupported"] == []
    assert data["claims"] == [{"text": "开展职工法律知识培训", "start": 11, "end": 21,
                               "reason": "要点中没有这项工作（未见于任何要点）", "kind": "work"}]
    assert data["work_clauses"] == 2  # 新建…8家 (grounded by its figure) and the invented one


def test_the_vocabulary_is_extended_by_the_users_file(data_dir: Path) -> None:
    from drafting.flow.check import check as check_here

    def claims_here(draft: str) -> list[str]:
        return [c.text for c in check_here(draft, FACTS, FIELDS).claims]

    draft = "新建非公企业工会8家，开展“四季送”服务。"
    assert claims_here(draft) == ["开展“四季送”服务"]
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "claims.txt").write_text("四季送 genre\n服务 vague\n", encoding="utf-8")
    assert claims_here(draft) == []
    assert _claims(draft) == ["开展“四季送”服务"]  # the checker alone knows only its shipped words
    (data_dir / "claims.txt").write_text("四季送 holiday\n", encoding="utf-8")
    with pytest.raises(RequestError, match="类别"):
        claims_here(draft)


def test_the_opening_naming_any_of_the_topics_carries_no_claim() -> None:
    """Every pair, triple and quadruple of the standard topics (154 openings)."""
    request = DraftRequest("东湖街道总工会", "上半年", 2024, [SectionInput(None, ["新建非公企业工会8家"])])
    topics = [t for t in TOPICS if t.kind == "topic"]
    for k in (2, 3, 4):
        for chosen in itertools.combinations(topics, k):
            text = assemble.assemble("东湖街道总工会2024年上半年工作总结", assemble.opening(request, [t.key for t in chosen]),
                                     [(t.heading, "新建非公企业工会8家。") for t in chosen], assemble.closing(request))
            assert check(text, request.facts, request.field_texts()).claims == [], [t.key for t in chosen]
