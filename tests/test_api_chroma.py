"""The retrieval index on a real `chroma run` server, through the HTTP API: build it, query it
with GET /v1/examples, draft with examples from it; when the server goes away, /v1/examples
says so (503) and drafting goes on without examples."""
from __future__ import annotations

import subprocess

import pytest

from drafting.flow.retrieve import reset_index_cache
from drafting.retrieval.index import ExampleIndex
from tests.api_support import DRAFT_BODY, client, echo
from tests.conftest import FEW_SUMMARIES, use_model
from tests.fake_llm import FakeLLM


@pytest.mark.chroma_server
def test_examples_and_drafts_through_a_real_chroma_server(chroma_server: subprocess.Popen,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        info = ExampleIndex.open().build()
        assert info["summaries"] == 3 and info["sections"] > 0
        with FakeLLM(reply=echo) as model:
            use_model(monkeypatch, model)
            with client() as api:
                response = api.get("/v1/examples", params={"q": "工会经费税务代收", "k": 3, "org": "某区总工会"})
                assert response.status_code == 200, response.text
                examples = response.json()["examples"]
                assert 1 <= len(examples) <= 3 and examples[0]["summary_id"] in FEW_SUMMARIES
                assert {"id", "title", "heading", "text", "masked", "score", "kind"} <= examples[0].keys()
                assert [e["score"] for e in examples] == sorted((e["score"] for e in examples), reverse=True)
                topic_only = api.get("/v1/examples", params={"q": "走访慰问困难职工", "kind": "topic"}).json()
                assert topic_only["examples"] and all(e["kind"] == "topic" for e in topic_only["examples"])

                drafted = api.post("/v1/drafts", json={**DRAFT_BODY, "options": {"examples": 2}}).json()
                assert drafted["check"]["ok"] and drafted["examples"]
                assert {e["summary_id"] for e in drafted["examples"]} <= set(FEW_SUMMARIES)

                chroma_server.terminate()
                chroma_server.wait(timeout=20)
                down = api.get("/v1/examples", params={"q": "工会经费"})
                assert down.status_code == 503 and "索引" in down.json()["detail"]
                without = api.post("/v1/drafts", json={**DRAFT_BODY, "options": {"examples": 2}})
                assert without.status_code == 200 and without.json()["check"]["ok"]
    finally:
        reset_index_cache()  # the pipeline's cached index points at this server
