"""The naive baseline: what a plain LangChain RAG chain does with the same model.

k whole past summaries (retrieved by the same index, shown as they are) and all bullets go
into one prompt; the model writes the whole summary in one call; nothing is checked or
repaired. The evaluation scores it exactly like the pipeline.
"""
from __future__ import annotations

import time
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from drafting.flow.request import DraftRequest
from drafting.model.llm import LLMClient
from drafting.model.tokens import count_tokens
from drafting.prompts import load_parts

K_SUMMARIES = 2
# Capped so that one case cannot run for minutes: about what the pipeline writes for the same
# bullets, and a wall-clock limit on the stream (an unconstrained small model may not stop).
MAX_TOKENS = 1400
TOKENS_PER_FACT, BASE_TOKENS = 60, 200
MAX_SECONDS = 150.0
MARGIN = 128


def _examples(request: DraftRequest, budget: int, embedded: bool) -> tuple[str, list[dict[str, Any]]]:
    from drafting.flow.retrieve import excluded_summaries
    from drafting.retrieval.index import ExampleIndex

    found = ExampleIndex.open().summaries("\n".join(request.facts), k=K_SUMMARIES,
                                          exclude_summary_ids=excluded_summaries(request))
    share = budget // max(len(found), 1)
    texts = []
    for summary in found:
        text = summary["text"]
        while text and count_tokens(text, embedded) > share:
            text = text[: int(len(text) * 0.9)]
        texts.append(f"【{summary['title']}】\n{text}")
    return "\n\n".join(texts), [{"id": s["summary_id"], "summary_id": s["summary_id"], "title": s["title"],
                                 "text": s["text"]} for s in found]


def naive_draft(request: DraftRequest, client: LLMClient) -> dict[str, Any]:
    parts = load_parts("naive_rag")
    facts = "\n".join(f"- {f}" for f in request.facts)
    bare = parts["system"].substitute() + parts["user"].safe_substitute(org=request.org, period=request.period,
                                                                         facts=facts, examples="")
    budget = client.context_window - MAX_TOKENS - MARGIN - count_tokens(bare, client.embedded)
    examples_text, examples = _examples(request, max(budget, 0), client.embedded)
    prompt = ChatPromptTemplate.from_messages([
        ("system", parts["system"].substitute()),
        ("human", parts["user"].safe_substitute(org=request.org, period=request.period, facts=facts,
                                                examples="{examples}")),
    ])
    max_tokens = min(MAX_TOKENS, BASE_TOKENS + TOKENS_PER_FACT * len(request.facts))
    llm = ChatOpenAI(
        base_url=client.base_url, api_key=SecretStr(client.api_key or "not-needed"), model=client.model,
        max_tokens=max_tokens, temperature=0.3, timeout=client.timeout, max_retries=1)
    chain = prompt | llm | StrOutputParser()
    started = time.monotonic()
    chunks = 0
    text = ""
    for piece in chain.stream({"examples": examples_text}):
        text += piece
        chunks += 1 if piece else 0
        if time.monotonic() - started > MAX_SECONDS:
            break
    seconds = time.monotonic() - started
    text = text.strip()
    return {
        "title": text.split("\n", 1)[0], "text": text, "raw_text": text,
        "sections": [{"heading": "全文", "text": text, "seconds": seconds, "completion_tokens": chunks}],
        "examples": examples, "timings": {"total": seconds},
    }
