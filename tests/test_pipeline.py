"""The pipeline against a fake OpenAI-compatible endpoint: structure, events, check and repair."""
from __future__ import annotations

import re
import threading
import time

import pytest

from drafting import config
from drafting.flow.assemble import parse_layout
from drafting.flow.events import Delta, PartDone, SectionChecked, SectionDone, SectionRepaired, SectionStarted
from drafting.flow.pipeline import Cancelled, draft, regenerate_section, split_by_headings
from drafting.flow.request import RequestError, SectionInput, build_request
from drafting.model.llm import LLMClient
from tests.fake_llm import FakeLLM

FACTS = [
    SectionInput("组织建设", ["新建非公企业工会8家，新发展会员1200名"]),
    SectionInput("帮扶送温暖", ["春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名"]),
]


def _facts_of(body: dict) -> list[str]:
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    return re.findall(r"^- (.+)$", prompt, flags=re.M)


def echo(body: dict) -> str:
    """A well-behaved model: states each bullet of the prompt."""
    return "".join(f"{f}，工作扎实推进。" for f in _facts_of(body))


def inventor(body: dict) -> str:
    """A model that invents a figure every time, even when asked to repair."""
    return "共开展活动99场，" + echo(body)


def _client(fake: FakeLLM) -> LLMClient:
    return LLMClient(fake.base_url, "fake-model", None, embedded=True, timeout=5, max_retries=0)


@pytest.fixture
def request_(data_dir):
    return build_request("东湖街道总工会", "上半年", 2024, FACTS, {"examples": 0})


def test_sectioned_draft_structure_events_and_check(request_):
    events: list[dict] = []
    with FakeLLM(reply=echo) as fake:
        result = draft(request_, on_event=events.append, client=_client(fake))
    lines = result.text.split("\n")
    assert lines[0] == "东湖街道总工会2024年上半年工作总结"
    assert lines[1].startswith("2024年上半年，东湖街道总工会") and "二十大" in lines[1]
    assert "一、组织建设" in lines and "二、帮扶送温暖" in lines
    assert result.check["ok"] and not result.check["missing"]
    kinds = [e.type for e in events]
    assert kinds[0] == "plan" and kinds[-1] == "done"
    assert kinds.count("section_started") == 2 and kinds.count("section_checked") == 2
    assert "".join(e.text for e in events if isinstance(e, Delta) and e.index == 0).startswith("上半年，")
    assert len(fake.requests) == 2  # one call per section, no repair needed


@pytest.mark.parametrize("drop_first", ["1", "0"])
def test_invented_figure_is_repaired(request_, monkeypatch, drop_first):
    """An invented clause is dropped with no model call when the rest still states the bullets
    (section 1); where it opens the sentence that states a bullet (section 2), dropping it would
    lose the bullet, so the fallback removes it and restates the bullet from the input, again
    with no model call. Switched off, every section goes to the model first (which repeats
    itself), then to the fallback."""
    monkeypatch.setenv("DRAFTING_REPAIR_DROP", drop_first)
    events: list[dict] = []
    with FakeLLM(reply=inventor) as fake:
        result = draft(request_, on_event=events.append, client=_client(fake))
    assert result.check["ok"], result.check["unsupported"]
    assert "99场" not in result.text and "99场" in result.raw_text
    assert all(f in result.text for f in ("8家", "1200名", "120户", "36万元", "15名"))
    hows = [e.how for e in events if isinstance(e, SectionRepaired)]
    if drop_first == "1":
        assert hows == ["drop", "fallback"] and len(fake.requests) == 2  # one write per section
    else:
        assert hows == ["model", "fallback", "model", "fallback"]
        assert len(fake.requests) == 4  # a write and one repair per section


def test_missing_bullet_is_restated(request_):
    def forgetful(body: dict) -> str:
        return f"{_facts_of(body)[0]}，成效明显。"

    with FakeLLM(reply=forgetful) as fake:
        result = draft(request_, client=_client(fake))
    assert result.check["ok"] and not result.check["missing"]
    assert "金秋助学资助困难职工子女15名。" in result.text


def test_cancel_stops_between_sections(request_):
    cancel = threading.Event()

    def stop_after_first(event: dict) -> None:
        if isinstance(event, SectionDone):
            cancel.set()

    with FakeLLM(reply=echo) as fake, pytest.raises(Cancelled):
        draft(request_, on_event=stop_after_first, client=_client(fake), cancel=cancel)
    assert len(fake.requests) == 1


def test_regenerate_one_section_keeps_the_others(request_):
    with FakeLLM(reply=echo) as fake:
        first = draft(request_, client=_client(fake)).to_dict()
    with FakeLLM(reply=lambda body: "同时，" + echo(body)) as fake:
        second = regenerate_section(request_, first, 1, client=_client(fake))
    assert second.sections[0].text == first["sections"][0]["text"]
    assert second.sections[1].text != first["sections"][1]["text"]
    assert second.check["ok"] and len(fake.requests) == 1


def test_whole_strategy_splits_by_headings(data_dir):
    request = build_request("东湖街道总工会", "全年", 2021, FACTS, {"examples": 0, "strategy": "whole"})

    def whole(body: dict) -> str:
        facts = _facts_of(body)
        return f"一、组织建设\n{facts[0]}。\n二、帮扶送温暖\n{facts[1]}，{facts[2]}。"

    with FakeLLM(reply=whole) as fake:
        result = draft(request, client=LLMClient(fake.base_url, "m", None, embedded=False, max_retries=0))
    assert result.check["ok"] and not result.check["missing"]
    assert len(fake.requests) == 1 and "二十大" not in result.text and "2021年，" in result.text
    assert result.strategy == "whole"


def test_split_by_headings_tolerates_a_missing_heading():
    assert split_by_headings("一、甲\n正文一。\n三、丙\n正文三。", ["一、甲", "二、乙", "三、丙"]) == ["正文一。", "", "正文三。"]


def test_target_length_is_spread_over_sections(data_dir):
    from drafting.flow.pipeline import length_notes, section_targets
    from drafting.flow.plan import plan
    from drafting.flow.write import honest_chars

    request = build_request("东湖街道总工会", "上半年", 2024, FACTS, {"target_chars": 450})
    targets = section_targets(plan(request), request)
    assert len(targets) == 2 and targets[1] > targets[0]  # more bullets, more room
    assert 150 <= sum(targets) <= 450 and not length_notes(plan(request), request)
    # Three bullets cannot honestly fill 1,500 characters: capped at what they hold, and said so.
    long = build_request("东湖街道总工会", "上半年", 2024, FACTS, {"target_chars": 1500})
    outline = plan(long)
    assert section_targets(outline, long) == [honest_chars(s) for s in outline.sections]
    assert "达不到目标篇幅" in length_notes(outline, long)[0]
    short = build_request("东湖街道总工会", "上半年", 2024, FACTS, {"target_chars": 200})
    floors = [sum(len(f) for f in s.facts) + 20 for s in FACTS]
    assert section_targets(plan(short), short) == floors  # too short a target: the bullets still fit


def test_early_stop_is_retried_then_the_stub_dropped(request_):
    events: list[dict] = []
    with FakeLLM(reply="按照") as fake:  # the model gives up after a word, every time
        result = draft(request_, on_event=events.append, client=_client(fake))
    assert len(fake.requests) == 4  # each section written twice, no model repair for a stub
    assert [e.retry for e in events if isinstance(e, SectionStarted)] == [0, 1, 0, 1]
    assert "按照" not in result.text and result.check["ok"] and not result.check["missing"]
    assert "新建非公企业工会8家，新发展会员1200名。" in result.text


def test_fact_chunks_and_length_grammar():
    from drafting.flow.write import fact_chunks, finish_paragraph
    from drafting.model.paragraph import grammar as paragraph_grammar

    assert fact_chunks(["a", "b", "c"]) == [["a", "b", "c"]]
    assert [len(c) for c in fact_chunks(list("abcd"))] == [2, 2]
    assert [len(c) for c in fact_chunks(list("abcdefg"))] == [3, 2, 2]
    assert [len(c) for c in fact_chunks(list("abcd"), target_chars=800)] == [1, 1, 1, 1]  # a long target: more calls
    assert [len(c) for c in fact_chunks(list("abcd"), target_chars=400)] == [2, 2]
    assert fact_chunks(["a"], target_chars=900) == [["a"]]
    assert paragraph_grammar() == r"root ::= [^\n#*>|`_]+"
    assert paragraph_grammar(120).endswith("{120,}")
    assert finish_paragraph("慰问困难职工120户。可以借鉴的公文用语：无。20xx年") == "慰问困难职工120户。"


def test_long_sections_are_written_in_parts_with_a_minimum_length(data_dir):
    facts = [SectionInput("帮扶", [f"春节前组织机关干部分{n}个小组深入社区和企业，走访慰问困难职工和困难农民工家庭，"
                                  f"送去慰问金和米面油等生活物资，帮助解决实际困难" for n in (11, 12, 13, 14)])]
    request = build_request("东湖街道总工会", "上半年", 2024, facts, {"examples": 0, "target_chars": 900})
    with FakeLLM(reply=echo) as fake:
        result = draft(request, client=_client(fake))
    calls = len(fake.requests)
    assert 2 < calls <= 4  # 4 bullets for ~800 characters → more, shorter calls than the usual two
    assert all("{" in body["grammar"] for body in fake.requests)  # a minimum length was asked for
    assert result.sections[0].text.count("\n") == calls - 1 and result.check["ok"]


def test_regenerate_keeps_an_edited_opening_and_closing(request_):
    with FakeLLM(reply=echo) as fake:
        first = draft(request_, client=_client(fake)).to_dict()
        lines = first["text"].split("\n")
        lines[1], lines[-1] = "我们改过的开头。", "我们改过的结尾。"
        first["text"] = "\n".join(lines)
        second = regenerate_section(request_, first, 0, client=_client(fake))
    assert second.text.split("\n")[1] == "我们改过的开头。" and second.text.endswith("我们改过的结尾。")
    assert (second.opening, second.closing) == ("我们改过的开头。", "我们改过的结尾。")


def test_regenerate_keeps_a_flagged_edit_elsewhere_and_reports_it(request_):
    """A wrong figure the user typed into another section is kept and marked, never replaced by
    the bullets (the fallback is for sections written in this run)."""
    with FakeLLM(reply=echo) as fake:
        first = draft(request_, client=_client(fake)).to_dict()
        layout = parse_layout(first["text"], 2)
        wrong = layout.body_text(0) + "另建工会99家。"
        first["text"] = layout.replace_body(0, wrong)
        second = regenerate_section(request_, first, 1, client=_client(fake))
    assert parse_layout(second.text, 2).body_text(0) == wrong and second.sections[0].text == wrong
    assert [u["text"] for u in second.check["unsupported"]] == ["99家"] and not second.check["ok"]
    assert second.text == parse_layout(first["text"], 2).replace_body(1, second.sections[1].text)


def test_regenerate_refuses_when_the_headings_are_gone(request_):
    with FakeLLM(reply=echo) as fake:
        first = draft(request_, client=_client(fake)).to_dict()
        first["text"] = first["text"].replace("二、", "")
        with pytest.raises(RequestError, match="小节标题"):
            regenerate_section(request_, first, 0, client=_client(fake))
        assert len(fake.requests) == len(first["sections"])  # nothing was sent for the refused rewrite


def test_a_callback_that_raises_hangs_up_the_stream(request_):
    cancel = threading.Event()
    deltas: list[Delta] = []

    def cancel_mid_stream(event) -> None:
        if isinstance(event, Delta):
            deltas.append(event)
            if len(deltas) == 3:  # the first is the prefill, sent before the request: cancel inside the stream
                cancel.set()
                raise Cancelled("已取消生成。")

    long = lambda body: "新建非公企业工会8家，新发展会员1200名。" * 40
    with FakeLLM(reply=long, chunk_chars=2, delay=0.02) as fake:
        with pytest.raises(Cancelled) as raised:  # held, as a caller that logs it would: no GC closes the stream
            draft(request_, on_event=cancel_mid_stream, client=_client(fake), cancel=cancel)
        deadline = time.monotonic() + 5
        while not fake.hung_up and time.monotonic() < deadline:  # the server notices at its next write
            time.sleep(0.05)
        assert fake.hung_up == 1 and raised.value  # the client closed the stream at once; the server stopped writing


def test_fallback_restates_only_the_clause_with_the_missing_figure():
    from drafting.checker import Missing
    from drafting.flow.repair import missing_clauses

    fact = "组织35至60名职工参加专场招聘会，30至40名下岗失业人员当场签合同"
    assert missing_clauses(fact, [Missing("30至40名", fact)]) == "30至40名下岗失业人员当场签合同"
    assert missing_clauses(fact, [Missing("35至60名", fact), Missing("30至40名", fact)]) == fact
    assert missing_clauses(fact, [Missing("三十人", fact)]) == fact  # not found verbatim: the whole bullet
    same = "决算汇总率85%，工会经费申报率85%；办一次财务、经审干部培训"
    assert missing_clauses(same, [Missing("85%", same, same.rindex("85%"))]) == "工会经费申报率85%"
    assert missing_clauses(same, [Missing("85%", same)]) == "决算汇总率85%，工会经费申报率85%"


def test_fallback_drops_the_invented_clause_and_keeps_the_bullet_beside_it():
    from drafting.flow.check import check
    from drafting.flow.repair import drop_problem_clauses

    facts = ["部署工资集体协商，重点推动百人以上已建会企业", "探视工伤职工82名"]
    text = ("部署工资集体协商，重点推动百人以上已建会企业，全年共签订120份工资集体合同，覆盖职工3500余人。"
            "共开展活动99场，其中大型活动5场，探视工伤职工82名。探视工伤职工82名，发放资料300份。")
    kept = drop_problem_clauses(text, check(text, facts))
    assert kept == "部署工资集体协商，重点推动百人以上已建会企业。探视工伤职工82名。"


def test_a_result_round_trips_through_its_dict(request_):
    from drafting.flow.pipeline import DraftResult

    with FakeLLM(reply=echo) as fake:
        result = draft(request_, client=_client(fake))
    stored = {**result.to_dict(), "fallback": False, "ignored_facts": []}  # what a face adds
    again = DraftResult.from_dict(stored)
    assert again.to_dict() == result.to_dict() and isinstance(again.sections[0], type(result.sections[0]))


def test_the_drafting_service_as_a_langchain_runnable(data_dir, monkeypatch):
    from drafting.chains import drafting_runnable
    from tests.conftest import use_model

    payload = {"org": "东湖街道总工会", "period": "上半年", "year": 2024, "options": {"examples": 0},
               "sections": [{"title": s.title, "facts": s.facts} for s in FACTS]}
    with FakeLLM(reply=echo) as fake:
        use_model(monkeypatch, fake)
        chain = drafting_runnable()
        result = chain.invoke(payload)
        assert result["check"]["ok"] and not result["fallback"] and "120户" in result["text"]
        assert [r["title"] for r in chain.batch([payload, payload])] == [result["title"]] * 2
    use_model(monkeypatch, None)  # no model: the service's flagged fallback, through the same Runnable
    fallen = drafting_runnable().invoke(payload)
    assert fallen["fallback"] and "模型暂时无法使用" in fallen["notes"][0]


def test_a_long_first_section_shows_a_checked_first_part_before_the_next_call(data_dir, monkeypatch):
    """The first section's first bullet is its own call, checked and repaired before the next
    call starts; a part's invented figure is repaired in that part alone."""
    monkeypatch.setenv("DRAFTING_FIRST_PART_BULLETS", "1")
    config.reset_settings()
    request = build_request("东湖街道总工会", "上半年", 2024, [
        SectionInput("帮扶送温暖", ["春节走访慰问困难职工120户", "发放慰问金36万元", "金秋助学资助困难职工子女15名"]),
        SectionInput("组织建设", ["新建非公企业工会8家", "新发展会员1200名"]),
    ], {"examples": 0})

    def invents_in_later_parts(body: dict) -> str:
        facts = _facts_of(body)
        return ("共开展活动99场，" if "120户" not in facts[0] else "") + echo(body)

    events: list = []
    with FakeLLM(reply=invents_in_later_parts) as fake:
        calls_at_part: dict[tuple[int, int], int] = {}

        def record(event) -> None:
            events.append(event)
            if isinstance(event, PartDone):
                calls_at_part[(event.index, event.part)] = len(fake.requests)

        result = draft(request, on_event=record, client=_client(fake))
    parts = [e for e in events if isinstance(e, PartDone)]
    assert [(e.index, e.part, e.parts) for e in parts] == [(0, 0, 2), (0, 1, 2), (1, 0, 1)]
    assert calls_at_part[(0, 0)] == 1  # the first part was final after one call
    assert parts[0].text.startswith("上半年") and "120户" in parts[0].text and "36万元" not in parts[0].text
    assert result.text.count("\n") >= 1 and parts[1].text.startswith(parts[0].text + "\n")
    checked = [(e.index, e.part) for e in events if isinstance(e, SectionChecked)]
    assert checked == [(0, 0), (0, 1), (1, 0)]
    repaired = [(e.index, e.part, e.how) for e in events if isinstance(e, SectionRepaired)]
    # Part (0, 1) keeps a sentence once the invented one goes, so the fallback restates what went
    # with it, with no re-ask; section 1 is one sentence opening on the invention, and dropping
    # it would leave nothing, so the model is asked first.
    assert repaired == [(0, 1, "fallback"), (1, 0, "model"), (1, 0, "fallback")] and len(fake.requests) == 4
    assert all(e.text.startswith(parts[0].text) for e in events if isinstance(e, SectionRepaired) and e.index == 0)
    assert result.check["ok"] and "99场" not in result.text
    assert all(f in result.text for f in ("120户", "36万元", "15名", "8家", "1200名"))


def test_the_first_part_can_be_switched_off(data_dir, monkeypatch):
    monkeypatch.setenv("DRAFTING_FIRST_PART_BULLETS", "0")
    config.reset_settings()
    request = build_request("东湖街道总工会", "上半年", 2024, [
        SectionInput("帮扶送温暖", ["春节走访慰问困难职工120户", "发放慰问金36万元", "金秋助学资助困难职工子女15名"]),
    ], {"examples": 0})
    events: list = []
    with FakeLLM(reply=echo) as fake:
        draft(request, on_event=events.append, client=_client(fake))
    assert len(fake.requests) == 1 and [e.parts for e in events if isinstance(e, PartDone)] == [1]
