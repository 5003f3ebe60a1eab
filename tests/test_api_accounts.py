"""Accounts over the HTTP API, on both databases: each user's key sees that user's drafts only
(another's id answers 404), the admin key (`DRAFTING_API_KEY`) sees every draft, a revoked key
answers 401 at once, and with accounts configured no call goes through without a key."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from drafting import config
from drafting.config import REPO_ROOT
from drafting.store import AccountError, Accounts, Store
from tests.api_support import DRAFT_BODY, client, echo
from tests.conftest import use_model
from tests.fake_llm import FakeLLM

ADMIN_KEY = "office-admin-key-0123456789"


@pytest.fixture
def office(database: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch):
    """Two clerks with a key each, on the parametrized database, and a fake model."""
    monkeypatch.setenv("DRAFTING_DATABASE_URL", database)
    config.reset_settings()
    accounts = Accounts(database)
    accounts.add_user("wang", "password-wang")
    accounts.add_user("li", "password-li-1")
    keys = {"wang": accounts.create_key("wang"), "li": accounts.create_key("li")}
    with FakeLLM(reply=echo) as model:
        use_model(monkeypatch, model)
        yield accounts, keys


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_each_user_sees_only_their_own_drafts(office) -> None:
    _, keys = office
    with client() as api:
        wang = api.post("/v1/drafts", json=DRAFT_BODY, headers=_auth(keys["wang"]))
        li = api.post("/v1/drafts", json={**DRAFT_BODY, "org": "西湖街道总工会"}, headers=_auth(keys["li"]))
        assert wang.status_code == li.status_code == 200
        wang_id, li_id = wang.json()["id"], li.json()["id"]
        assert api.get(f"/v1/drafts/{wang_id}", headers=_auth(keys["wang"])).json()["text"]
        refused = api.get(f"/v1/drafts/{wang_id}", headers=_auth(keys["li"]))
        assert refused.status_code == 404 and "没有编号" in refused.json()["detail"]  # not 403: no hint it exists
        assert [d["id"] for d in api.get("/v1/drafts", headers=_auth(keys["li"])).json()["drafts"]] == [li_id]
        assert [d["id"] for d in api.get("/v1/drafts", headers=_auth(keys["wang"])).json()["drafts"]] == [wang_id]
        assert api.get(f"/v1/drafts/{wang_id}/export", headers=_auth(keys["li"])).status_code == 404
        assert api.get(f"/v1/drafts/{wang_id}/export", headers=_auth(keys["wang"])).status_code == 200


def test_the_admin_key_and_admin_users_see_every_draft(office, monkeypatch: pytest.MonkeyPatch) -> None:
    accounts, keys = office
    monkeypatch.setenv("DRAFTING_API_KEY", ADMIN_KEY)
    config.reset_settings()
    accounts.add_user("chief", "password-chief", admin=True)
    chief = accounts.create_key("chief")
    with client() as api:
        ids = [api.post("/v1/drafts", json=DRAFT_BODY, headers=_auth(keys[name])).json()["id"]
               for name in ("wang", "li")]
        for key in (ADMIN_KEY, chief):
            listed = [d["id"] for d in api.get("/v1/drafts", headers=_auth(key)).json()["drafts"]]
            assert listed == ids[::-1]
            assert api.get(f"/v1/drafts/{ids[0]}", headers=_auth(key)).status_code == 200
        assert "queue" in api.get("/healthz", headers=_auth(ADMIN_KEY)).json()
        assert "queue" not in api.get("/healthz", headers=_auth(keys["wang"])).json()


def test_without_a_valid_key_nothing_goes_through(office) -> None:
    accounts, keys = office
    with client() as api:
        for headers in ({}, _auth("dk_not-a-key"), _auth("something-else"), {"Authorization": keys["wang"]}):
            for method, path in (("GET", "/v1/drafts"), ("POST", "/v1/check")):
                answer = api.request(method, path, headers=headers, json={"facts": ["新建工会8家"], "draft": "x"})
                assert answer.status_code == 401, (headers, path)
                assert "访问密钥" in answer.json()["detail"]
        assert api.get("/healthz").status_code == 200 and "queue" not in api.get("/healthz").json()
        assert api.get("/v1/drafts", headers=_auth(keys["wang"])).status_code == 200
        assert accounts.revoke_key(keys["wang"])
        assert api.get("/v1/drafts", headers=_auth(keys["wang"])).status_code == 401  # at once
        assert api.get("/v1/drafts", headers=_auth(keys["li"])).status_code == 200  # the other key lives on


def test_a_draft_accepted_for_a_user_is_stored_as_theirs(office, database: str) -> None:
    accounts, keys = office
    with client() as api:
        draft_id = api.post("/v1/drafts", json=DRAFT_BODY, headers=_auth(keys["li"])).json()["id"]
    row = Store(database).get_draft(draft_id)
    assert row is not None and row.user_id == accounts.user("li").id


def test_accounts_from_the_command_line(database: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """design.md: `users add NAME [--admin]` reads the password from standard input; `keys create
    NAME` prints the key alone on one line; `keys revoke KEY` makes it answer 401."""
    env = {"DRAFTING_DATABASE_URL": database, "DRAFTING_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "drafting", *args], input=stdin, capture_output=True,
                              text=True, cwd=REPO_ROOT, env=env, timeout=60)

    added = run("users", "add", "张秘书", "--admin", stdin="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert run("users", "add", "张秘书", stdin="a-long-password\n").returncode == 2  # exists: a Chinese error
    assert "至少" in run("users", "add", "李干事", stdin="short\n").stderr
    created = run("keys", "create", "张秘书")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert created.stdout == key + "\n" and key.startswith("dk_") and len(key) > 40
    accounts = Accounts(database)
    user = accounts.user_for_key(key)
    assert user is not None and user.name == "张秘书" and user.is_admin
    assert accounts.authenticate("张秘书", "a-long-password") == user
    assert accounts.authenticate("张秘书", "wrong-password") is None
    assert key not in _dump_all(database)  # only its hash is stored
    assert run("keys", "revoke", key).returncode == 0
    assert accounts.user_for_key(key) is None
    assert run("keys", "revoke", key).returncode == 2
    assert run("keys", "create", "nobody").returncode == 2


def _dump_all(database: str) -> str:
    """Every value of every table, as text."""
    from sqlalchemy import select

    from drafting.store.schema import metadata

    store = Store(database)
    with store.engine.connect() as conn:
        return "\n".join(str(row) for table in metadata.sorted_tables for row in conn.execute(select(table)))


def test_passwords_are_slow_salted_hashes(database: str) -> None:
    accounts = Accounts(database)
    accounts.add_user("a", "same-password")
    accounts.add_user("b", "same-password")
    dump = _dump_all(database)
    assert "same-password" not in dump and dump.count("$argon2id$") == 2
    hashes = [line for line in dump.splitlines() if "$argon2id$" in line]
    assert hashes[0].split("$")[-1] != hashes[1].split("$")[-1]  # salted: the same password, two hashes
    started = time.perf_counter()
    assert accounts.authenticate("nobody", "same-password") is None  # an unknown name costs a hash too
    assert time.perf_counter() - started > 0.005
    with pytest.raises(AccountError):
        accounts.add_user("a", "another-password")
    with pytest.raises(AccountError):
        accounts.add_user("bad name; drop", "another-password")


def test_page_sessions_last_until_they_end_or_expire(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from drafting.store import accounts as accounts_module

    accounts = Accounts(database)
    user = accounts.add_user("wang", "password-wang")
    token = accounts.start_session(user)
    assert accounts.user_for_session(token) == user and accounts.user_for_session(token + "x") is None
    assert token not in _dump_all(database)
    accounts.end_session(token)
    assert accounts.user_for_session(token) is None
    monkeypatch.setattr(accounts_module, "SESSION_S", -1)
    assert accounts.user_for_session(accounts.start_session(user)) is None  # expired


def test_names_no_user_could_have_are_simply_not_found(database: str) -> None:
    accounts = Accounts(database)
    accounts.add_user("wang", "password-wang")
    for name in ("wang\x00", "王 五", "x" * 65):  # PostgreSQL text cannot hold NUL: no 500, no traceback
        assert accounts.user(name) is None and accounts.authenticate(name, "password-wang") is None
        with pytest.raises(AccountError):
            accounts.set_password(name, "another-password")
