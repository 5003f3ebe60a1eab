"""The history store: versions with their bullets and reports, parents, autosave, several writers;
every behaviour on both backends (a SQLite file and a real PostgreSQL), and old history files
migrated without loss."""
from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from drafting import config
from drafting.config import REPO_ROOT
from drafting.store import DONE, FAILED, INTERRUPTED, RUNNING, Accounts, Store, get_store
from drafting.store.database import database_url, head_revision, shown_url
from drafting.store.schema import drafts
from tests.postgres import Cluster

CHECK_OK = {"ok": True, "figures": [], "unsupported": [], "missing": [], "warnings": []}
CHECK_BAD = {"ok": False, "figures": [], "unsupported": [{"text": "9家", "start": 3, "end": 5, "reason": "不符"}],
             "missing": [{"text": "8家", "fact": "新建工会8家"}], "warnings": []}
REQUEST = {"org": "东湖街道总工会", "period": "上半年", "year": 2024,
           "sections": [{"title": "组织建设", "facts": ["新建工会8家"]}], "options": {}}


def _save(store: Store, **overrides) -> int:
    fields = dict(text="标题\n正文新建工会8家。", title="标题", request=REQUEST, check=CHECK_OK,
                  result={"sections": [{"heading": "组织建设", "text": "正文"}]}, facts_text="# 组织建设\n新建工会8家")
    fields.update(overrides)
    return store.save_draft(**fields)


def test_save_get_list_delete_round_trip(database: str) -> None:
    store = Store(database)
    first = _save(store)
    second = _save(store, text="标题\n正文新建工会9家。", check=CHECK_BAD, parent_id=first, kind="edited")
    draft = store.get_draft(second)
    assert draft is not None
    assert draft.text == "标题\n正文新建工会9家。" and draft.parent_id == first and draft.kind == "edited"
    assert draft.request == REQUEST and draft.check == CHECK_BAD and draft.facts_text.startswith("# 组织建设")
    assert draft.result["sections"][0]["heading"] == "组织建设"
    assert not draft.ok and draft.unsupported == 1 and draft.missing == 1
    assert [d.id for d in store.list_drafts()] == [second, first]  # newest first
    assert store.delete_draft(first) and not store.delete_draft(first)
    assert store.get_draft(first) is None
    assert store.get_draft(second).parent_id is None  # the child survives its parent
    assert draft.to_dict()["text"] == draft.text


def test_unknown_kind_is_refused(database: str) -> None:
    with pytest.raises(ValueError):
        _save(Store(database), kind="mystery")


def test_autosave_is_replaced_per_key(database: str) -> None:
    store = Store(database)
    assert store.load_input() is None
    store.save_input({"facts_text": "第一稿"})
    store.save_input({"facts_text": "第二稿，含“引号”与 emoji 🙂"})
    store.save_input({"facts_text": "别的页面"}, key="other")
    assert store.load_input() == {"facts_text": "第二稿，含“引号”与 emoji 🙂"}
    assert store.load_input("other") == {"facts_text": "别的页面"}


def test_wal_mode_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "h.sqlite3"
    draft_id = _save(Store(path))
    assert Store(path).get_draft(draft_id) is not None  # a second opener sees it
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_configured_store_is_sqlite_in_the_data_dir_or_the_database_url(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch, postgres: Cluster) -> None:
    draft_id = _save(get_store())
    assert get_store().get_draft(draft_id).title == "标题"
    assert (data_dir / "history.sqlite3").is_file()
    url = postgres.new_database()
    monkeypatch.setenv("DRAFTING_DATABASE_URL", url)
    config.reset_settings()
    store = get_store()
    assert store.engine.dialect.name == "postgresql" and store.list_drafts() == []
    assert store.label == url.replace("postgresql://", "postgresql+psycopg://")  # no password to hide here
    monkeypatch.setenv("DRAFTING_DATABASE_URL", "mysql://root:secret@db/history")
    config.reset_settings()
    with pytest.raises(ValueError, match="postgresql://"):
        get_store()


def test_the_password_is_not_shown() -> None:
    assert "secret" not in shown_url(database_url("postgresql://clerk:secret@db.example:5432/drafting"))


def test_rows_of_one_user_are_invisible_to_another(database: str) -> None:
    store = Store(database)
    mine, theirs, old = _save(store, user_id=1), _save(store, user_id=2), _save(store)
    accepted = store.accept_draft(title="标题", request=REQUEST, request_id="r-1", user_id=2)
    assert [d.id for d in store.list_drafts(only_user=1)] == [mine]
    assert store.get_draft(theirs, only_user=1) is None and store.get_draft(theirs, only_user=2) is not None
    assert store.recent_ids(10, only_user=2) == [accepted, theirs]
    assert store.find_by_request_id("r-1", only_user=1) == [] and store.find_by_request_id("r-1") == [accepted]
    assert not store.delete_draft(theirs, only_user=1) and store.get_draft(theirs) is not None
    assert [d.id for d in store.list_drafts()] == [old, theirs, mine]  # an admin sees every finished row
    assert store.get_draft(mine).user_id == 1 and store.get_draft(old).user_id is None


def test_accepted_rows_finish_or_are_recovered_as_interrupted(database: str) -> None:
    store = Store(database)
    done = store.accept_draft(title="标题", request=REQUEST, facts_text="新建工会8家")
    store.set_status(done, RUNNING)
    store.finish_draft(done, text="标题\n正文", title="标题", check=CHECK_BAD, result={"notes": []})
    row = store.get_draft(done)
    assert row.status == DONE and row.unsupported == 1 and row.missing == 1 and not row.ok
    store.set_status(done, FAILED, "不应改动")  # a finished row is left alone
    assert store.get_draft(done).status == DONE
    lost = store.accept_draft(title="标题", request=REQUEST, facts_text="新建工会8家")
    with store.engine.begin() as conn:  # as if a process that has since died had accepted it
        conn.execute(update(drafts).where(drafts.c.id == lost).values(owner=f"{socket.gethostname()}:999999999"))
    assert store.recover_interrupted() == [lost]
    row = store.get_draft(lost)
    assert row.status == INTERRUPTED and row.facts_text == "新建工会8家"  # the input is kept
    assert [d.id for d in store.list_drafts()] == [done]


# The history file as the releases before the migrations made it, with rows in it.
_FIRST_RELEASE = """
CREATE TABLE drafts (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL,
    parent_id INTEGER REFERENCES drafts(id) ON DELETE SET NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, facts_text TEXT NOT NULL, request TEXT NOT NULL, result TEXT NOT NULL,
    check_report TEXT NOT NULL, ok INTEGER NOT NULL, unsupported INTEGER NOT NULL, missing INTEGER NOT NULL);
CREATE INDEX drafts_created ON drafts(created_at);
CREATE TABLE inputs (key TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL);
INSERT INTO drafts VALUES (1, '2024-07-01T10:00:00+08:00', NULL, 'generated', '旧稿', '旧稿\n正文新建工会8家。',
    '新建工会8家', '{"org": "东湖街道总工会"}', '{"sections": []}', '{"ok": true}', 1, 0, 0);
INSERT INTO drafts VALUES (2, '2024-07-01T11:00:00+08:00', 1, 'edited', '旧稿', '旧稿\n正文新建工会9家。',
    '新建工会8家', '{"org": "东湖街道总工会"}', '{}', '{"ok": false}', 0, 1, 0);
INSERT INTO inputs VALUES ('current', '{"facts_text": "未写完的要点"}', '2024-07-01T11:05:00+08:00');
"""
_LATER_COLUMNS = "ALTER TABLE drafts ADD COLUMN status TEXT NOT NULL DEFAULT 'done';"


@pytest.mark.parametrize("columns_added", [False, True], ids=["first-release", "status-columns"])
def test_an_old_history_file_is_migrated_without_loss(tmp_path: Path, columns_added: bool) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_FIRST_RELEASE + (_LATER_COLUMNS if columns_added else ""))
    store = Store(path)
    assert [(d.id, d.kind, d.parent_id) for d in store.list_drafts()] == [(2, "edited", 1), (1, "generated", None)]
    old = store.get_draft(2)
    assert old.text == "旧稿\n正文新建工会9家。" and old.check == {"ok": False} and old.status == DONE
    assert old.user_id is None and old.request == {"org": "东湖街道总工会"}
    assert store.load_input() == {"facts_text": "未写完的要点"}
    assert _save(store) == 3  # ids go on from the old rows
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_many_processes_open_and_write_at_once(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> None:
    """8 processes open a fresh store at the same moment, 20 times over (SQLite's journal mode,
    the migrations), and each writes once: no "database is locked", nothing lost."""
    processes, rounds, step = 8, 20, 0.25
    if backend == "sqlite":
        places = [str(tmp_path / f"round-{r}.sqlite3") for r in range(rounds)]
    else:
        cluster: Cluster = request.getfixturevalue("postgres")
        places = [cluster.new_database() for _ in range(rounds)]
    start_at = time.time() + 4.0  # past every child's start-up, so that the rounds coincide
    children = [subprocess.Popen([sys.executable, "-m", "tests.store_worker", str(start_at), str(step), *places],
                                 cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
                for _ in range(processes)]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * processes, "\n".join(errors)
    for r, place in enumerate(places):
        store = Store(place)
        assert len(store.list_drafts()) == processes
        assert store.load_input() == {"round": r}


def test_an_office_moves_its_sqlite_history_to_postgresql(tmp_path: Path, postgres: Cluster) -> None:
    """`db copy` takes every draft, autosave, user and key with their ids; new ids go on after
    them; a target that already holds drafts is refused."""
    laptop = tmp_path / "history.sqlite3"
    with sqlite3.connect(laptop) as conn:
        conn.executescript(_FIRST_RELEASE)  # an old file: migrated on the way
    old = Store(laptop)
    accounts = Accounts(laptop)
    clerk = accounts.add_user("clerk", "password-clerk")
    key = accounts.create_key("clerk")
    mine = _save(old, user_id=clerk.id)
    server = postgres.new_database()
    env = {"DRAFTING_DATABASE_URL": server, "DRAFTING_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "drafting", "db", "copy", str(laptop)], capture_output=True,
                          text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 份草稿、1 份自动保存、1 个账号、1 个密钥" in done.stdout
    new = Store(server)
    assert [d.id for d in new.list_drafts()] == [mine, 2, 1]
    assert new.get_draft(2) == old.get_draft(2) and new.get_draft(mine) == old.get_draft(mine)
    assert new.load_input() == {"facts_text": "未写完的要点"}
    assert Accounts(server).user_for_key(key) == clerk and Accounts(server).authenticate("clerk", "password-clerk")
    assert _save(new) == mine + 1  # ids go on after the copied ones
    again = subprocess.run([sys.executable, "-m", "drafting", "db", "copy", str(laptop)], capture_output=True,
                           text=True, cwd=REPO_ROOT, env=env, timeout=120)
    assert again.returncode == 2 and "已有草稿" in again.stderr
