"""History of drafts and the autosaved input.

Every generated, regenerated or edited draft is a row with its bullets, request, check report
and parent version. The user's current input (fields, bullets, edited outline) is autosaved
under a key, so that nothing typed is lost across refreshes and restarts.

The HTTP API stores a request before drafting it (`accept_draft`, status "accepted"), marks it
"running" while the model writes and fills the row in one transaction when done
(`finish_draft`); a process that dies mid-draft leaves the row with the user's input, which
`recover_interrupted` marks "interrupted". Only finished rows ("done") are listed as history.

With accounts, each row belongs to a user (`user_id`); the reading calls take `only_user` to
see one user's rows and nobody else's (None: every row, for an admin or a single-user setup).
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, Row, delete, insert, select, true, update

from drafting.store.database import database_url, engine_for, reading, shown_url, upsert, writing
from drafting.store.processes import process_running
from drafting.store.schema import drafts, inputs

KINDS = ("generated", "regenerated", "edited")
KIND_ZH = {"generated": "生成", "regenerated": "重写一节", "edited": "人工修改"}
ACCEPTED, RUNNING, DONE, FAILED, INTERRUPTED = "accepted", "running", "done", "failed", "interrupted"
STATUSES = (ACCEPTED, RUNNING, DONE, FAILED, INTERRUPTED)
INTERRUPTED_MESSAGE = "生成过程中服务中断，要点已保存，请重新提交。"
_SUMMARY = (drafts.c.id, drafts.c.created_at, drafts.c.parent_id, drafts.c.kind, drafts.c.title, drafts.c.ok,
            drafts.c.unsupported, drafts.c.missing, drafts.c.user_id)


@dataclass(frozen=True)
class DraftSummary:
    """One history row without its large fields."""

    id: int
    created_at: str
    parent_id: int | None
    kind: str
    title: str
    ok: bool
    unsupported: int
    missing: int
    user_id: int | None


@dataclass(frozen=True)
class Draft(DraftSummary):
    text: str
    facts_text: str
    request: dict[str, Any]
    result: dict[str, Any]
    check: dict[str, Any]
    status: str = DONE
    error: str = ""
    request_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _visible(only_user: int | None) -> ColumnElement[bool]:
    return true() if only_user is None else drafts.c.user_id == only_user


def _summary_fields(row: Row[Any]) -> dict[str, Any]:
    m = row._mapping
    return {"id": m["id"], "created_at": m["created_at"], "parent_id": m["parent_id"], "kind": m["kind"],
            "title": m["title"], "ok": bool(m["ok"]), "unsupported": m["unsupported"], "missing": m["missing"],
            "user_id": m["user_id"]}


def _report_columns(check: dict[str, Any]) -> dict[str, Any]:
    return {"check_report": _dump(check), "ok": int(bool(check.get("ok"))),
            "unsupported": len(check.get("unsupported", [])), "missing": len(check.get("missing", []))}


class Store:
    """The history in the database at `where`: a SQLite file path or a database URL (created and
    migrated on first use; safe to open from many processes at once)."""

    def __init__(self, where: str | Path) -> None:
        self.url = database_url(where)
        self.engine: Engine = engine_for(self.url)

    @property
    def label(self) -> str:
        """Where the history lives, for the page (no password)."""
        return shown_url(self.url)

    def save_draft(self, *, text: str, title: str, request: dict[str, Any], check: dict[str, Any],
                   result: dict[str, Any] | None = None, facts_text: str = "",
                   parent_id: int | None = None, kind: str = "generated", user_id: int | None = None) -> int:
        """Store one version; returns its id. `result` holds the rest of the pipeline's output."""
        if kind not in KINDS:
            raise ValueError(f"unknown draft kind {kind!r}")
        return self._insert(created_at=now(), parent_id=parent_id, kind=kind, title=title, text=text,
                            facts_text=facts_text, request=_dump(request), result=_dump(result or {}),
                            status=DONE, error="", request_id="", owner="", user_id=user_id,
                            **_report_columns(check))

    def accept_draft(self, *, title: str, request: dict[str, Any], facts_text: str = "", request_id: str = "",
                     kind: str = "generated", parent_id: int | None = None, user_id: int | None = None) -> int:
        """Store a request before it is drafted (status "accepted"); returns the row's id."""
        if kind not in KINDS:
            raise ValueError(f"unknown draft kind {kind!r}")
        return self._insert(created_at=now(), parent_id=parent_id, kind=kind, title=title, text="", facts_text=facts_text,
                            request=_dump(request), result=_dump({}), status=ACCEPTED, error="",
                            request_id=request_id, owner=_owner(), user_id=user_id, **_report_columns({}))

    def _insert(self, **values: Any) -> int:
        with writing(self.engine) as conn:
            key = conn.execute(insert(drafts).values(**values)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def get_draft(self, draft_id: int, only_user: int | None = None) -> Draft | None:
        with reading(self.engine) as conn:
            row = conn.execute(select(drafts).where(drafts.c.id == draft_id, _visible(only_user))).first()
        if row is None:
            return None
        m = row._mapping
        return Draft(**_summary_fields(row), text=m["text"], facts_text=m["facts_text"],
                     request=json.loads(m["request"]), result=json.loads(m["result"]),
                     check=json.loads(m["check_report"]), status=m["status"], error=m["error"],
                     request_id=m["request_id"])

    def list_drafts(self, limit: int = 500, only_user: int | None = None) -> list[DraftSummary]:
        """Finished versions, newest first."""
        query = (select(*_SUMMARY).where(drafts.c.status == DONE, _visible(only_user))
                 .order_by(drafts.c.id.desc()).limit(limit))
        with reading(self.engine) as conn:
            return [DraftSummary(**_summary_fields(row)) for row in conn.execute(query)]

    def recent_ids(self, limit: int, only_user: int | None = None) -> list[int]:
        """Every row, newest first, whatever its status (accepted, running, interrupted, failed, done)."""
        query = select(drafts.c.id).where(_visible(only_user)).order_by(drafts.c.id.desc()).limit(limit)
        with reading(self.engine) as conn:
            return [int(row[0]) for row in conn.execute(query)]

    def find_by_request_id(self, request_id: str, only_user: int | None = None) -> list[int]:
        """Ids of the rows stored for one HTTP request id, newest first."""
        query = (select(drafts.c.id).where(drafts.c.request_id == request_id, _visible(only_user))
                 .order_by(drafts.c.id.desc()))
        with reading(self.engine) as conn:
            return [int(row[0]) for row in conn.execute(query)]

    def set_status(self, draft_id: int, status: str, error: str = "") -> None:
        """Mark an unfinished row (running, failed); a finished row is left alone."""
        if status not in STATUSES or status == DONE:
            raise ValueError(f"status {status!r} cannot be set directly")
        with writing(self.engine) as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id, drafts.c.status != DONE)
                         .values(status=status, error=error, owner=_owner()))

    def finish_draft(self, draft_id: int, *, text: str, title: str, check: dict[str, Any],
                     result: dict[str, Any]) -> None:
        """Fill an accepted row with its draft and report, all in one transaction."""
        with writing(self.engine) as conn:
            conn.execute(update(drafts).where(drafts.c.id == draft_id)
                         .values(title=title, text=text, result=_dump(result), status=DONE, error="",
                                 **_report_columns(check)))

    def recover_interrupted(self) -> list[int]:
        """Mark unfinished rows whose drafting process on this host is gone as "interrupted"."""
        host = socket.gethostname()
        unfinished = drafts.c.status.in_((ACCEPTED, RUNNING))
        with writing(self.engine) as conn:
            lost = []
            for draft_id, owner in conn.execute(select(drafts.c.id, drafts.c.owner).where(unfinished)).tuples():
                owner_host, _, pid = str(owner).rpartition(":")
                if owner_host == host and pid.isdigit() and not process_running(int(pid)):
                    lost.append(int(draft_id))
            if lost:
                conn.execute(update(drafts).where(drafts.c.id.in_(lost), unfinished)
                             .values(status=INTERRUPTED, error=INTERRUPTED_MESSAGE))
        return lost

    def delete_draft(self, draft_id: int, only_user: int | None = None) -> bool:
        """Delete one version (its children keep their text; their parent becomes empty)."""
        with writing(self.engine) as conn:
            deleted = conn.execute(delete(drafts).where(drafts.c.id == draft_id, _visible(only_user))).rowcount
        return deleted > 0  # the children's parent_id is emptied by the foreign key

    def save_input(self, data: dict[str, Any], key: str = "current") -> None:
        with writing(self.engine) as conn:
            upsert(conn, inputs, {"key": key}, {"data": _dump(data), "updated_at": now()})

    def load_input(self, key: str = "current") -> dict[str, Any] | None:
        with reading(self.engine) as conn:
            data = conn.scalar(select(inputs.c.data).where(inputs.c.key == key))
        return json.loads(data) if data is not None else None
