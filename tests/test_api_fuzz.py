"""Fuzzing against the OpenAPI schema (schemathesis): requests generated from the schema for
every operation, valid ones and invalid ones, with the bearer key configured and a fake model
behind the drafts. Every response must be no 500, carry a documented status and content type
and match its response schema (schemathesis' default checks, including that a request without
the key is refused and that schema-invalid requests are refused). Bounded: a fixed number of
examples per operation, about a minute in all.

Left out: "schema-valid request accepted". Some rules of `drafting.flow.request` are not expressible
in JSON Schema (the total characters of all bullets, text that is only whitespace or control
characters once cleaned, a year string such as "明年"); such requests get a Chinese 422.

The operations are fuzzed from inside one test (hypothesis driven directly) rather than through
schemathesis' pytest plugin, whose lazy schema loading does not work with this pytest.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from drafting import config
from tests.api_support import bullets_in, client
from tests.conftest import use_model
from tests.fake_llm import FakeLLM

KEY = "fuzz-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
# Examples per operation and mode; the draft operations run the whole pipeline each time.
BUDGET = {"POST /v1/drafts": 60, "POST /v1/drafts/stream": 40}
DEFAULT_BUDGET = 150


@pytest.fixture
def fuzz_schema(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    with FakeLLM(reply=_inventor) as model:
        use_model(monkeypatch, model)
        monkeypatch.setenv("DRAFTING_API_KEY", KEY)
        config.reset_settings()
        with client(queue_size=64) as api:
            fuzz_config = schemathesis.Config.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": KEY}}}})
            yield schemathesis.openapi.from_asgi("/openapi.json", api.app, config=fuzz_config, headers=AUTH)


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_schema(fuzz_schema, mode: schemathesis.GenerationMode,
                                                capsys: pytest.CaptureFixture) -> None:
    statuses: Counter[str] = Counter()
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        label = f"{operation.method.upper()} {operation.path}"
        if mode == schemathesis.GenerationMode.NEGATIVE and label == "GET /healthz":
            continue  # no inputs to get wrong

        @settings(max_examples=BUDGET.get(label, DEFAULT_BUDGET), deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            statuses[f"{label} {response.status_code}"] += 1  # noqa: B023 — run() is called at once, in this iteration
            assert response.status_code < 500

        run()
    with capsys.disabled():
        print(f"\nfuzz {mode.value}: {sum(statuses.values())} requests;", dict(sorted(statuses.items())))
    assert not any(key.endswith(" 500") for key in statuses)


def _inventor(body: dict) -> str:
    """A model that states the bullets and adds a figure of its own every time (it does not
    repeat a repair prompt's list of problems, `- “99场”：…`)."""
    facts = [line for line in bullets_in(body) if not line.startswith("“")]
    return "共开展各类活动99场，" + "".join(f"{fact}，工作扎实推进。" for fact in facts)


_TEXT = st.text(alphabet=st.sampled_from(list("新建工会会员职工慰问困难帮扶万元名家户场次人项第届一二三四五十百千两余近约多"
                                              "0123456789.%％，。、；：“”（）- \t\x00\x07\u200b\ufeffabcXYZ#*")),
                min_size=1, max_size=60)


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(facts=st.lists(_TEXT, min_size=1, max_size=12),
       period=st.sampled_from(["上半年", "全年", "前三季度", "1-8月"]),
       year=st.one_of(st.none(), st.integers(1990, 2030)),
       strategy=st.sampled_from(["sectioned", "whole"]))
def test_any_plausible_request_gives_a_draft_with_only_supported_figures(
        fuzz_app, facts: list[str], period: str, year: int | None, strategy: str) -> None:
    body = {"org": "东湖街道总工会", "period": period, "year": year, "facts": facts,
            "options": {"examples": 0, "strategy": strategy}}
    response = fuzz_app.post("/v1/drafts", json=body, headers=AUTH)
    if response.status_code == 422:  # only when nothing usable is left after cleaning
        assert "没有可用的要点" in response.json()["detail"], response.json()
        return
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["check"]["ok"] and not result["check"]["unsupported"], (result["check"], result["text"])
    assert "99场" not in result["text"]


@pytest.fixture
def fuzz_app(data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """One app for all examples: hypothesis runs them inside one call of the test."""
    with FakeLLM(reply=_inventor) as model:
        use_model(monkeypatch, model)
        monkeypatch.setenv("DRAFTING_API_KEY", KEY)
        config.reset_settings()
        with client(queue_size=64) as api:
            yield api


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=6000)
_SUFFIX = st.sampled_from(["", "家", "万", "亿元", "%", ".5名", "-99人", "万人次", "年", "月"])
_ANY = st.text(st.characters(codec="utf-8"), max_size=200)  # any Unicode scalar: bidi, controls, emoji, CJK


@settings(max_examples=120, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(digits=_DIGITS, suffix=_SUFFIX, noise=_ANY, where=st.sampled_from(["draft", "facts", "both", "query", "draft_request"]))
def test_digit_strings_of_any_length_and_any_unicode_never_give_a_500(fuzz_app, digits: str, suffix: str,
                                                                      noise: str, where: str) -> None:
    """Numerals past Python's int-to-str limit (4,300 digits) and arbitrary Unicode, through every
    route that reads text: no 500, and JSON back."""
    numeral = f"{noise[:20]}新建工会{digits}{suffix}{noise[20:]}"
    if where == "query":
        response = fuzz_app.get("/v1/examples", params={"q": numeral[:2000]}, headers=AUTH)
    elif where == "draft_request":
        body = {"org": "东湖街道总工会", "period": "全年", "facts": [numeral[:500]], "options": {"examples": 0}}
        response = fuzz_app.post("/v1/drafts", json=body, headers=AUTH)
    else:
        facts = [numeral[:500]] if where in ("facts", "both") else ["新建工会8家"]
        draft = numeral if where in ("draft", "both") else "新建工会8家。"
        response = fuzz_app.post("/v1/check", json={"facts": facts, "draft": draft}, headers=AUTH)
    assert response.status_code < 500, (where, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    response.json()
