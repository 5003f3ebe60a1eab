"""History of drafts and the autosaved input, in one SQLite file under the data directory.

Every generated, regenerated or edited draft is a row with its bullets, request, check report
and parent version. The user's current input (fields, bullets, edited outline) is autosaved
under a key so that nothing typed is lost across refreshes and restarts.

Each call opens its own connection (a busy timeout, one transaction per write) on a file set to
WAL once, so the page, the HTTP API and the CLI can share it from several processes and threads.

The HTTP API stores a request before drafting it (`accept_draft`, status "accepted"), marks it
"running" while the model writes and fills the row in one transaction when done
(`finish_draft`); a process that dies mid-draft leaves the row with the user's input, which
`recover_interrupted` marks "interrupted". Only finished rows ("done") are listed as history.
"""
from __future__ import annotations

import json
import os
import random
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drafting.config import get_settings

KINDS = ("generated", "regenerated", "edited")
KIND_ZH = {"generated": "生成", "regenerated": "重写一节", "edited": "人工修改"}
ACCEPTED, RUNNING, DONE, FAILED, INTERRUPTED = "accepted", "running", "done", "failed", "interrupted"
STATUSES = (ACCEPTED, RUNNING, DONE, FAILED, INTERRUPTED)
INTERRUPTED_MESSAGE = "生成过程中服务中断，要点已保存，请重新提交。"
_BUSY_TIMEOUT_S = 30.0
_OPEN_ATTEMPTS = 12

_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    parent_id INTEGER REFERENCES drafts(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    facts_text TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT NOT NULL,
    check_report TEXT NOT NULL,
    ok INTEGER NOT NULL,
    unsupported INTEGER NOT NULL,
    missing INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS drafts_created ON drafts(created_at);
CREATE TABLE IF NOT EXISTS inputs (
    key TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
# Columns added after the first release; older files get them on open (status "done" for old rows).
_ADDED_COLUMNS = {
    "status": "TEXT NOT NULL DEFAULT 'done'",
    "error": "TEXT NOT NULL DEFAULT ''",
    "request_id": "TEXT NOT NULL DEFAULT ''",
    "owner": "TEXT NOT NULL DEFAULT ''",  # host:pid of the process drafting an unfinished row
}


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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class Store:
    """The history database at `path` (created on first use; safe to open from many processes
    at once: the journal mode and the schema are set up once, in one immediate transaction,
    retried while another process holds the file)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                self._set_up()
                return
            except sqlite3.OperationalError as exc:
                # Switching to WAL takes an exclusive lock and answers "locked" at once, without
                # waiting out the busy timeout, while another process opens or switches the file.
                if not _is_busy(exc) or attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(min(0.05 * 2 ** attempt, 1.0) * (0.5 + random.random()))

    def _set_up(self) -> None:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S, isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # persistent: set once per file
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")  # one writer sets up the schema; the others wait, then see it
            try:
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    conn.execute(statement)
                present = {row["name"] for row in conn.execute("PRAGMA table_info(drafts)")}
                for name, decl in _ADDED_COLUMNS.items():
                    if name not in present:
                        conn.execute(f"ALTER TABLE drafts ADD COLUMN {name} {decl}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_S)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:  # one transaction: committed on success, rolled back on error
                yield conn
        finally:
            conn.close()

    def save_draft(self, *, text: str, title: str, request: dict[str, Any], check: dict[str, Any],
                   result: dict[str, Any] | None = None, facts_text: str = "",
                   parent_id: int | None = None, kind: str = "generated") -> int:
        """Store one version; returns its id. `result` holds the rest of the pipeline's output."""
        if kind not in KINDS:
            raise ValueError(f"unknown draft kind {kind!r}")
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO drafts (created_at, parent_id, kind, title, text, facts_text, request, result,"
                " check_report, ok, unsupported, missing) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (_now(), parent_id, kind, title, text, facts_text, _dump(request), _dump(result or {}),
                 _dump(check), int(bool(check.get("ok"))), len(check.get("unsupported", [])),
                 len(check.get("missing", []))),
            )
            return int(cur.lastrowid or 0)

    def get_draft(self, draft_id: int) -> Draft | None:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM drafts WHERE id = ?", (draft_id,)).fetchone()
        if row is None:
            return None
        return Draft(**_summary_fields(row), text=row["text"], facts_text=row["facts_text"],
                     request=json.loads(row["request"]), result=json.loads(row["result"]),
                     check=json.loads(row["check_report"]), status=row["status"], error=row["error"],
                     request_id=row["request_id"])

    def list_drafts(self, limit: int = 500) -> list[DraftSummary]:
        """Finished versions, newest first."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT id, created_at, parent_id, kind, title, ok, unsupported, missing FROM drafts"
                " WHERE status = ? ORDER BY id DESC LIMIT ?", (DONE, limit)).fetchall()
        return [DraftSummary(**_summary_fields(row)) for row in rows]

    def recent_ids(self, limit: int) -> list[int]:
        """Every row, newest first, whatever its status (accepted, running, interrupted, failed, done)."""
        with self._connect() as conn:
            return [int(row[0]) for row in conn.execute("SELECT id FROM drafts ORDER BY id DESC LIMIT ?", (limit,))]

    def accept_draft(self, *, title: str, request: dict[str, Any], facts_text: str = "",
                     request_id: str = "", kind: str = "generated") -> int:
        """Store a request before it is drafted (status "accepted"); returns the row's id."""
        if kind not in KINDS:
            raise ValueError(f"unknown draft kind {kind!r}")
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO drafts (created_at, kind, title, text, facts_text, request, result, check_report,"
                " ok, unsupported, missing, status, request_id, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (_now(), kind, title, "", facts_text, _dump(request), _dump({}), _dump({}), 0, 0, 0,
                 ACCEPTED, request_id, _owner()),
            )
            return int(cur.lastrowid or 0)

    def set_status(self, draft_id: int, status: str, error: str = "") -> None:
        """Mark an unfinished row (running, failed); a finished row is left alone."""
        if status not in STATUSES or status == DONE:
            raise ValueError(f"status {status!r} cannot be set directly")
        with self._connect() as conn:
            conn.execute("UPDATE drafts SET status = ?, error = ?, owner = ? WHERE id = ? AND status != ?",
                         (status, error, _owner(), draft_id, DONE))

    def finish_draft(self, draft_id: int, *, text: str, title: str, check: dict[str, Any],
                     result: dict[str, Any]) -> None:
        """Fill an accepted row with its draft and report, all in one transaction."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE drafts SET title = ?, text = ?, result = ?, check_report = ?, ok = ?, unsupported = ?,"
                " missing = ?, status = ?, error = '' WHERE id = ?",
                (title, text, _dump(result), _dump(check), int(bool(check.get("ok"))),
                 len(check.get("unsupported", [])), len(check.get("missing", [])), DONE, draft_id),
            )

    def find_by_request_id(self, request_id: str) -> list[int]:
        """Ids of the rows stored for one HTTP request id, newest first."""
        with self._connect() as conn:
            rows = conn.execute("SELECT id FROM drafts WHERE request_id = ? ORDER BY id DESC", (request_id,)).fetchall()
        return [row["id"] for row in rows]

    def recover_interrupted(self) -> list[int]:
        """Mark unfinished rows whose drafting process on this host is gone as "interrupted"."""
        host = socket.gethostname()
        with self._connect() as conn:
            rows = conn.execute("SELECT id, owner FROM drafts WHERE status IN (?, ?)", (ACCEPTED, RUNNING)).fetchall()
            lost = []
            for row in rows:
                owner_host, _, pid = row["owner"].rpartition(":")
                if owner_host == host and pid.isdigit() and not _pid_alive(int(pid)):
                    lost.append(row["id"])
            conn.executemany("UPDATE drafts SET status = ?, error = ? WHERE id = ? AND status IN (?, ?)",
                             [(INTERRUPTED, INTERRUPTED_MESSAGE, i, ACCEPTED, RUNNING) for i in lost])
        return lost

    def delete_draft(self, draft_id: int) -> bool:
        """Delete one version (its children keep their text; their parent becomes empty)."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM drafts WHERE id = ?", (draft_id,)).rowcount > 0

    def save_input(self, data: dict[str, Any], key: str = "current") -> None:
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO inputs (key, data, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (key, _dump(data), _now()),
            )

    def load_input(self, key: str = "current") -> dict[str, Any] | None:
        with self._connect() as conn:
            row = conn.execute("SELECT data FROM inputs WHERE key = ?", (key,)).fetchone()
        return json.loads(row["data"]) if row else None


def _summary_fields(row: sqlite3.Row) -> dict[str, Any]:
    return {"id": row["id"], "created_at": row["created_at"], "parent_id": row["parent_id"],
            "kind": row["kind"], "title": row["title"], "ok": bool(row["ok"]),
            "unsupported": row["unsupported"], "missing": row["missing"]}


def get_store() -> Store:
    """The store at the configured history path."""
    return Store(get_settings().history_db)


# The same operations on the configured store, for callers that do not keep a `Store`.
def save_draft(**fields: Any) -> int:
    return get_store().save_draft(**fields)


def get_draft(draft_id: int) -> Draft | None:
    return get_store().get_draft(draft_id)


def list_drafts(limit: int = 500) -> list[DraftSummary]:
    return get_store().list_drafts(limit)


def delete_draft(draft_id: int) -> bool:
    return get_store().delete_draft(draft_id)


def save_input(data: dict[str, Any], key: str = "current") -> None:
    get_store().save_input(data, key)


def load_input(key: str = "current") -> dict[str, Any] | None:
    return get_store().load_input(key)
