"""Matching a draft against the bullets and request fields, and the report built from it."""
from __future__ import annotations

import json

import pytest

from drafting.checker import CheckReport, check

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory


def only_unsupported(report: CheckReport) -> dict:
    assert len(report.unsupported) == 1, report.summary_zh()
    return report.unsupported[0].to_dict()


def only_warning(report: CheckReport) -> dict:
    assert not report.unsupported, report.summary_zh()
    assert len(report.warnings) == 1, report.summary_zh()
    return report.warnings[0].to_dict()


@pytest.mark.parametrize(
    ("fact", "draft"),
    [
        ("发放慰问金30万元", "发放慰问金300000元。"),
        ("发放慰问金30万元", "发放慰问金三十万元。"),
        ("发放慰问金300000元", "发放慰问金30万元。"),
        ("入会率53.3%", "入会率达百分之五十三点三。"),
        ("入会率53.3%", "入会率达53.3﹪。"),
        ("慰问困难职工1000多人", "慰问困难职工一千多名。"),
        ("慰问困难职工1000多人", "慰问困难职工1000余人。"),
        ("发放资料5000余份", "发放资料五千余份。"),
        ("新建工会8家", "新建工会八家。"),
        ("新建工会８家", "新建工会8家。"),
        ("培育3-5家典型", "培育3至5家典型。"),
        ("补助150—200元", "补助150元至200元。"),
        ("资金近500万元", "资金近五百万元。"),
        ("发放两百元", "发放200元。"),
        ("于5月5日召开", "于五月五日召开。"),
        ("于5月5日召开", "于5月5号召开。"),
        ("截至6月底", "截至六月底。"),
        ("今年1-6月新增", "今年1至6月新增。"),
        ("取得第三名", "取得第3名。"),
        ("辖区企业3463", "辖区企业3463家。"),
        ("辖区企业3463家", "辖区企业3463。"),
        ("2019年度表彰", "2019年表彰。"),
        ("召开区总工会三届二次全委会", "召开区总工会第三届第二次全委会。"),
        ("慰问困难职工1000多人", "慰问困难职工千余人。"),
        ("发放宣传资料2000份", "发放宣传资料2千份。"),
        ("发放资料1.5万册", "发放资料15000册。"),
        ("签订率在90﹪以上", "签订率超过90%。"),
        ("慰问金达上百万元", "慰问金达100多万元。"),
        ("约3000人参加", "3000人左右参加。"),
        ("选手40人", "选手四十位。"),
        ("第二届大赛", "第2届大赛。"),
        ("发放慰问金30万元", "发放慰问金30万。"),
    ],
)
def test_equivalent_forms_are_supported(fact: str, draft: str) -> None:
    report = check(draft, [fact])
    assert report.ok and not report.warnings and not report.missing, report.summary_zh()


def test_a_month_is_supported_by_a_date_but_the_date_is_then_missing() -> None:
    report = check("5月召开。", ["于5月5日召开"])
    assert report.ok and not report.warnings
    assert [m.text for m in report.missing] == ["5月5日"]
    assert not check("5月5日召开。", ["于5月召开"]).ok


def test_request_fields_support_year_and_org_figures() -> None:
    fields = ["某某第三街道总工会", "上半年", "2024年"]
    for draft in ("2024年上半年，某某第三街道总工会工作如下。", "二〇二四年上半年工作总结"):
        report = check(draft, ["新建工会8家"], fields)
        assert report.ok, report.summary_zh()
    assert not check("2023年上半年", [], fields).ok
    assert check("2024年上半年", [], fields).missing == []


@pytest.mark.parametrize(
    ("fact", "draft", "fragment", "reason"),
    [
        ("新建工会8家", "新建工会9家。", "9家", "数值与要点不符：要点为“8家”"),
        ("落实就业15名", "落实就业15家。", "15家", "单位与要点不符：要点为“15名”"),
        ("发放慰问金30万元", "发放慰问金30元。", "30元", "数量级（万/亿）与要点不符：要点为“30万元”"),
        ("发放慰问金5300元", "发放慰问金5300万元。", "5300万元", "数量级（万/亿）"),
        ("已完成90多万元", "已完成近90万元。", "近90万元", "约数词与要点不符：要点为“90多万元”"),
        ("新建工会8家", "新建工会近8家。", "近8家", "约数词与要点不符"),
        ("新建工会8家", "新建工会8家以上。", "8家以上", "约数词与要点不符"),
        ("于5月5日召开", "于5月6日召开。", "5月6日", "日期与要点不符"),
        ("4月28日检查，四月底宣传", "4月29日检查，四月底宣传。", "4月29日", "日期与要点不符"),
        ("2019年度表彰", "2018年度表彰。", "2018年度", "年份与要点不符"),
        ("取得第三名", "取得第二名。", "第二名", "名次/届次与要点不符"),
        ("按1:2配套", "按1:3配套。", "1:3", "比例与要点不符"),
        ("培育3-5家", "培育3-6家。", "3-6家", "数值范围与要点不符"),
        ("召开区总工会三届二次全委会", "召开区总工会三届三次全委会。", "三届三次", "届次与要点不符"),
        ("新建工会8家", "慰问职工120人。", "120人", "要点中没有这个数字"),
        ("新建工会8家,应建15家", "完成任务的53.3%。", "53.3%", "疑似由要点数字推算（8÷15≈53.3%）"),
        ("在职参保4040人,退休参保688人", "共参保4728人。", "4728人", "疑似由要点数字相加得到（4040+688=4728）"),
    ],
)
def test_errors_carry_a_chinese_reason(fact: str, draft: str, fragment: str, reason: str) -> None:
    report = check(draft, [fact])
    assert not report.ok
    item = only_unsupported(report)
    assert item["text"] == fragment
    assert draft[item["start"]:item["end"]] == fragment
    assert reason in item["reason"]


@pytest.mark.parametrize(
    ("fact", "draft", "fragment", "reason"),
    [
        ("发放资料5000余份", "发放资料5000份。", "5000份", "删去了约数词“余”"),
        ("维权兑现金额28万元", "维权兑现金额约28万元。", "约28万元", "添加了约数词“约”"),
        ("总投资1700万元", "总投资1700万元左右。", "1700万元左右", "添加了约数词“左右”"),
        ("接待农民工800多人次", "接待农民工800多人。", "800多人", "“人”与“人次”不同"),
        ("截至6月底完成", "截至6月30日完成。", "6月30日", "日期写法不同"),
        ("截至6月30日完成", "截至6月底完成。", "6月底", "日期写法不同"),
        ("截至2月底完成", "截至2月29日完成。", "2月29日", "日期写法不同"),
        ("新建工会8家", "新建工会8家，表彰了一批先进。", "一批", "“一/首”加量词"),
        ("新建工会8家", "新建工会8家，多次召开会议。", "多次", "泛指数量词"),
        ("新建工会8家", "新建工会8家，按“65432”要求落实。", "65432", "引号内的口号或名称含数字"),
    ],
)
def test_warnings(fact: str, draft: str, fragment: str, reason: str) -> None:
    item = only_warning(check(draft, [fact]))
    assert item["text"] == fragment
    assert reason in item["reason"]


def test_a_unitless_number_matches_only_in_the_same_place() -> None:
    facts = ["建会率达90%以上", "辖区企业3463家"]
    assert check("辖区企业3463，覆盖面广。", facts).ok
    item = only_unsupported(check("调剂了工作气氛，处理率达90。", facts))
    assert item["text"] == "90"


def test_malformed_chinese_numerals_must_match_verbatim() -> None:
    item = only_unsupported(check("发放一万八千一百四十四万元。", ["发放慰问金1.8144亿元"]))
    assert item["text"] == "一万八千一百四十四万元" and "无法识别" in item["reason"]
    assert check("发放一万八千一百四十四万元。", ["发放一万八千一百四十四万元"]).ok


def test_supported_soft_figures_raise_no_warning() -> None:
    report = check("表彰了一批先进，多次召开会议。", ["表彰一批先进", "多次召开会议"])
    assert report.ok and not report.warnings


def test_placeholders_fail_unless_the_input_has_the_same_token() -> None:
    report = check("20xx年上半年，培训xx名干部。", ["培训干部30名"])
    assert [u.text for u in report.unsupported] == ["20xx", "xx"]
    assert all("占位符" in u.reason for u in report.unsupported)
    assert check("**区总工会", ["**区总工会组织活动"]).ok


def test_lexicon_and_structure_are_never_checked() -> None:
    draft = "一、学习贯彻党的二十大精神\n（一）“五一”期间，以“三个代表”重要思想为指导，第一书记带头。一是加强学习。"
    report = check(draft, [])
    assert report.ok and not report.warnings and not report.missing, report.summary_zh()


def test_own_session_is_a_fact_national_session_is_not() -> None:
    assert not check("召开区总工会三届二次全委会", []).ok
    assert check("贯彻全总十七届三次执委会精神", []).ok


def test_missing_lists_input_figures_absent_from_the_draft() -> None:
    facts = ["新建工会8家，发展会员1000多人", "发放慰问金30万元"]
    report = check("新建工会8家，发放慰问金300000元。", facts)
    assert report.ok
    assert [m.to_dict() for m in report.missing] == [{"text": "1000多人", "fact": facts[0]}]


def test_one_figure_in_the_draft_does_not_state_two_bullets_with_the_same_figure() -> None:
    facts = ["决算汇总率85%，工会经费申报率85%", "2家社区工会联合会争创达标", "2家企业申报“区示范企业工会”"]
    report = check("全年决算汇总率达到85%。2家企业申报了“区示范企业工会”。", facts)
    assert [(m.text, m.fact, m.at) for m in report.missing] == [
        ("85%", facts[0], facts[0].rindex("85%")), ("2家", facts[1], 0)]
    both = check("决算汇总率85%，工会经费申报率85%。2家社区工会联合会争创达标，2家企业申报示范。", facts)
    assert both.missing == []


def test_report_shape_and_json() -> None:
    report = check("新建工会9家，发放资料5000份。", ["新建工会8家", "发放资料5000余份"])
    data = report.to_dict()
    assert set(data) == {"ok", "figures", "unsupported", "claims", "work_clauses", "missing", "warnings"}
    assert data["ok"] is False and data["claims"] == []
    for item in data["unsupported"] + data["warnings"]:
        assert {"text", "start", "end", "reason"} <= set(item)
    assert data["missing"] == [{"text": "8家", "fact": "新建工会8家"}]
    figure = data["figures"][0]
    assert {"text", "start", "end", "class", "value", "unit", "hedge", "scale"} <= set(figure)
    assert (figure["text"], figure["class"], figure["value"], figure["unit"]) == ("9家", "FACT", 9, "bodies")
    json.dumps(data, ensure_ascii=False)


def test_summary_zh() -> None:
    failing = check("新建工会9家。", ["新建工会8家"]).summary_zh()
    assert failing.startswith("数字核对：未通过")
    assert "“9家”" in failing and "要点为“8家”" in failing
    assert check("新建工会8家。", ["新建工会8家"]).summary_zh().startswith("数字核对：通过")


def test_a_realistic_draft_passes() -> None:
    facts = [
        "新建工会8家，发展会员1000多人", "职工入会率达到92.5%", "春节慰问困难职工120户，发放慰问金30万元",
        "三八妇女节组织女职工健康体检2次", "5月举办职工技能大赛，设8个工种，300余名职工参赛",
    ]
    draft = (
        "2024年上半年，某某街道总工会深入学习贯彻党的二十大和二十届三中全会精神，坚决做到“两个维护”，现将上半年工作总结如下：\n"
        "一、夯实组织基础\n上半年，新建企业工会8家，发展会员一千多名，职工入会率达92.5%。\n"
        "二、传递组织温暖\n（一）春节期间，走访慰问困难职工120户，发放慰问金三十万元。\n"
        "三、丰富文体活动\n“三八”国际妇女节期间，组织女职工健康体检两次；5月，举办职工技能大赛，设置8个工种，吸引300余名职工参赛。\n"
        "四、存在的不足\n一是服务手段还不够多；二是规范化建设仍需加强。下半年，我们将以“十四五”规划为引领，推动工作再上新台阶。"
    )
    report = check(draft, facts, ["某某街道总工会", "上半年", "2024年"])
    assert report.ok and not report.warnings and not report.missing, report.summary_zh()


def test_cost_grows_with_the_input_not_with_its_square(monkeypatch: pytest.MonkeyPatch) -> None:
    """40 long bullets and a draft of 1,600 wrong ranges: every draft figure looks for the closest
    input figure to name in its reason. Scoring each pair recomputed the words around both (48 s
    for a 50,000-character draft); the words around a figure are now read a bounded number of
    times per figure, and long lists are searched through their informative bigrams."""
    from drafting.checker import match

    reads = 0
    context = match._context

    def counting(text: str, start: int, end: int) -> set[str]:
        nonlocal reads
        reads += 1
        return context(text, start, end)

    monkeypatch.setattr(match, "_context", counting)
    facts = ["，".join(f"开展活动{(i * 7 + j) % 97 + 1}-{(i * 13 + j * 31) % 900 + 100}人" for j in range(25))
             for i in range(40)]
    draft = "，".join(f"开展活动{j % 89 + 2}-{(j * 17) % 900 + 100}人次" for j in range(1600))
    report = check(draft, facts)
    assert len(report.unsupported) >= 1000
    assert all(u.reason for u in report.unsupported)
    figures = 40 * 25 + 1600
    assert reads <= 4 * figures, reads
