"""The evaluation runner end to end on a fake model: outputs, summary keys, resumability."""
from __future__ import annotations

import json
import re

from drafting.model.llm import LLMClient
from evals import run
from tests.fake_llm import FakeLLM

CASE = {"id": "c1", "org": "东湖街道总工会", "period": "上半年", "year": 2024,
        "facts": ["新建工会8家，发展会员1200名", "慰问困难职工120户"],
        "reference": "东湖街道总工会上半年新建工会8家，发展会员1200名，慰问困难职工120户。"}


def _reply(body: dict) -> str:
    prompt = body.get("prompt") or body["messages"][-1]["content"]
    facts = re.findall(r"^- (.+)$", prompt, flags=re.M)
    if "messages" in body:  # the naive baseline: one call, a whole summary with an invented figure
        return "东湖街道总工会上半年工作总结\n一、工作\n" + "，".join(facts) + "，共开展活动99场。"
    return "".join(f"{f}，工作扎实推进。" for f in facts)


def test_runner_writes_outputs_and_resumes(tmp_path, data_dir, monkeypatch):
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps(CASE, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    with FakeLLM(reply=_reply) as fake:
        monkeypatch.setattr(run, "get_client", lambda: LLMClient(fake.base_url, "fake-model", None, embedded=True,
                                                                 max_retries=0))
        indexed: list[bool] = []  # building the corpus index is test_index's (a minute of embedding)
        monkeypatch.setattr(run, "ensure_index", lambda progress: indexed.append(progress))
        assert run.main(["--cases", str(cases), "--out", str(out), "--baseline", "naive"]) == 0
        calls = len(fake.requests)
        assert run.main(["--cases", str(cases), "--out", str(out), "--baseline", "naive"]) == 0
        assert len(fake.requests) == calls  # finished cases are skipped
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("cases", "figure_precision", "figure_recall", "raw_figure_precision", "placeholder_drafts",
                "structure_ok", "rougeL_char_f1", "seconds_median", "seconds_p90"):
        assert key in summary
    assert summary["cases"] == 1 and summary["figure_precision"] == 1.0 and summary["figure_recall"] == 1.0
    assert indexed == [True, True] and summary["index_sections"] == 0  # brought up to date, and its size said
    row = json.loads((out / "cases.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert {"id", "text", "raw_text", "check", "seconds"} <= row.keys()
    assert 0 < row["first_delta_seconds"] <= row["first_section_seconds"] <= row["seconds"]
    assert summary["first_section_seconds_max"] == row["first_section_seconds"]
    baseline = json.loads((out / "baseline" / "summary.json").read_text(encoding="utf-8"))
    assert baseline["figure_precision"] < 1.0  # the invented 99场 is caught
    assert (out / "report.md").is_file()
