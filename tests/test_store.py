"""The history store: versions with their bullets and reports, parents, autosave, several writers."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drafting import store as store_module
from drafting.config import REPO_ROOT
from drafting.store import Store

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


def test_save_get_list_delete_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.sqlite3")
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


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        _save(Store(tmp_path / "h.sqlite3"), kind="mystery")


def test_autosave_is_replaced_per_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "h.sqlite3")
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


def test_module_functions_use_the_configured_data_dir(data_dir: Path) -> None:
    draft_id = store_module.save_draft(text="标题\n正文", title="标题", request=REQUEST, check=CHECK_OK)
    assert store_module.get_draft(draft_id).title == "标题"
    assert [d.id for d in store_module.list_drafts()] == [draft_id]
    store_module.save_input({"org": "某工会"})
    assert store_module.load_input() == {"org": "某工会"}
    assert store_module.delete_draft(draft_id)
    assert (data_dir / "history.sqlite3").is_file()


def test_many_processes_open_and_write_at_once(tmp_path: Path) -> None:
    """8 processes open a fresh store file at the same moment, 20 times over (the journal mode
    and the schema race), and each writes once: no "database is locked", nothing lost."""
    processes, rounds, step = 8, 20, 0.25
    start_at = time.time() + 4.0  # past every child's start-up, so that the rounds coincide
    children = [subprocess.Popen([sys.executable, "-m", "tests.store_worker", str(tmp_path), str(start_at),
                                  str(rounds), str(step)], cwd=REPO_ROOT, stderr=subprocess.PIPE, text=True)
                for _ in range(processes)]
    errors = [child.communicate(timeout=120)[1] for child in children]
    assert [child.returncode for child in children] == [0] * processes, "\n".join(errors)
    for r in range(rounds):
        store = Store(tmp_path / f"round-{r}.sqlite3")
        assert len(store.list_drafts()) == processes
        assert store.load_input() == {"round": r}
