"""The page with accounts (AppTest, fake model): a sign-in first; each clerk has their own
autosave, history, drafts and running job; one clerk can neither open, delete nor cancel
another's; an admin sees the office's drafts; without accounts the page stays as it was."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from drafting.page import jobs
from drafting.store import Accounts, User, get_accounts, get_store
from tests.conftest import use_model
from tests.fake_llm import FakeLLM
from tests.test_app import FACTS_TEXT, click, fill, html, page, restate, texts, wait_for_job

RELEASE = threading.Event()
HISTORY = ":material/history: 历史版本"


def held_restate(body: dict[str, Any]) -> str:
    """The page tests' model, holding each reply until RELEASE is set (at most 20 s)."""
    RELEASE.wait(20)
    return restate(body)


@pytest.fixture
def office(data_dir, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Accounts, dict[str, User]]]:
    RELEASE.set()
    accounts = get_accounts()
    users = {"wang": accounts.add_user("wang", "password-wang"), "li": accounts.add_user("li", "password-li-1"),
             "chief": accounts.add_user("chief", "password-chief", admin=True)}
    with FakeLLM(held_restate) as server:
        use_model(monkeypatch, server)
        yield accounts, users
        RELEASE.set()
        for user in users.values():
            if (job := jobs.running_job(user.id)) is not None:
                job.cancel()
                job.join(30)


def sign_in(name: str, password: str) -> AppTest:
    at = page()
    at.text_input(key="sign_in_name").set_value(name)
    at.text_input(key="sign_in_password").set_value(password)
    return click(at, "登录")


def test_the_page_asks_for_a_sign_in_and_refuses_a_wrong_password(office) -> None:
    at = page()
    assert "登录" in [b.label for b in at.button] and not at.text_area  # nothing of the page before
    at = sign_in("wang", "not-the-password")
    assert "用户名或密码不正确" in texts(at.error) and not at.text_area
    at = sign_in("wang", "password-wang")
    assert at.text_area(key="facts_text") is not None and "已登录：wang" in texts(at.caption)


def test_two_clerks_each_have_their_own_input_drafts_and_job(office) -> None:
    _, users = office
    wang = fill(sign_in("wang", "password-wang"))
    li = sign_in("li", "password-li-1")
    assert li.text_area(key="facts_text").value == ""  # wang's bullets are not li's autosave
    assert get_store().load_input(f"user:{users['wang'].id}")["facts_text"] == FACTS_TEXT

    RELEASE.clear()  # both drafts are being written at the same time
    click(click(wang, "生成提纲 →"), "生成初稿")
    fill(li, facts="新建工会5家\n慰问困难职工30户", org="西湖街道总工会")
    click(click(li, "生成提纲 →"), "生成初稿")
    assert "您已有一个生成任务" not in texts(li.info)  # not attached to wang's job
    wang_job, li_job = jobs.running_job(users["wang"].id), jobs.running_job(users["li"].id)
    assert wang_job is not None and li_job is not None and wang_job.id != li_job.id
    assert jobs.get_job(wang_job.id, users["li"].id) is None  # li cannot follow or cancel wang's job
    li.session_state["job_id"] = wang_job.id
    li.run()
    assert li.session_state["job_id"] is None or jobs.get_job(li.session_state["job_id"], users["li"].id) is None
    li.session_state["job_id"] = li_job.id
    li.run()
    RELEASE.set()
    wait_for_job(wang, users["wang"].id)
    wait_for_job(li, users["li"].id)

    store = get_store()
    wang_drafts = store.list_drafts(only_user=users["wang"].id)
    li_drafts = store.list_drafts(only_user=users["li"].id)
    assert len(wang_drafts) == len(li_drafts) == 1
    assert "东湖街道总工会" in wang_drafts[0].title and "西湖街道总工会" in li_drafts[0].title

    li.session_state["draft_id"] = wang_drafts[0].id  # an id typed or guessed: not shown, not deletable
    li.run()
    assert "新建非公企业工会8家" not in html(li)
    li.segmented_control(key="view").set_value(HISTORY).run()
    assert f"#{wang_drafts[0].id}" not in texts(li.markdown) and f"#{li_drafts[0].id}" in texts(li.markdown)
    assert [b.key for b in li.button if b.key and b.key.startswith("del_")] == [f"del_{li_drafts[0].id}"]

    chief = sign_in("chief", "password-chief")
    chief.segmented_control(key="view").set_value(HISTORY).run()
    shown = texts(chief.markdown)
    assert f"#{wang_drafts[0].id}" in shown and f"#{li_drafts[0].id}" in shown  # the admin sees the office's


def test_signing_out_leaves_nothing_for_the_next_user(office) -> None:
    wang = fill(sign_in("wang", "password-wang"))
    click(wang, "退出登录")
    assert "登录" in [b.label for b in wang.button] and not wang.text_area
    wang.text_input(key="sign_in_name").set_value("li")
    wang.text_input(key="sign_in_password").set_value("password-li-1")
    click(wang, "登录")
    assert wang.text_area(key="facts_text").value == "" and wang.text_input(key="org").value == ""
    click(wang, "退出登录")
    wang.text_input(key="sign_in_name").set_value("wang")
    wang.text_input(key="sign_in_password").set_value("password-wang")
    click(wang, "登录")
    assert wang.text_area(key="facts_text").value == FACTS_TEXT  # wang's own input came back


def test_without_accounts_the_page_is_for_the_one_local_user(data_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLLM(restate) as server:
        use_model(monkeypatch, server)
        at = page()
    assert at.text_area(key="facts_text") is not None and "登录" not in [b.label for b in at.button]
    assert "未启用账号" in texts(at.caption) and "users add" in texts(at.caption)


def test_a_page_draft_is_stored_before_the_model_writes_and_a_cancel_removes_it(office) -> None:
    _, users = office
    wang = fill(sign_in("wang", "password-wang"))
    RELEASE.clear()
    click(click(wang, "生成提纲 →"), "生成初稿")
    job = jobs.running_job(users["wang"].id)
    assert job is not None
    store = get_store()
    row = store.get_draft(job.accepted.id)  # while the model writes, the input is already in the database
    assert row is not None and row.status in ("accepted", "running") and row.user_id == users["wang"].id
    assert row.facts_text == FACTS_TEXT
    assert store.list_drafts() == []  # not history until it is done
    job.cancel()
    RELEASE.set()
    assert job.join(30) and job.status == jobs.CANCELLED
    assert store.get_draft(job.accepted.id) is None


def _path_of(block: Any, key: str, path: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    """Where the widget with this key sits in the page's element tree (the browser keeps a widget's
    typed text only while it stays at the same place)."""
    for index, child in getattr(block, "children", {}).items():
        if getattr(child, "key", None) == key:
            return (*path, index)
        if (found := _path_of(child, key, (*path, index))) is not None:
            return found
    return None


def test_the_bullets_box_stays_in_place_after_the_sign_in(office) -> None:
    """The sign-in's cookie script must not shift the page: a box that moves between two runs is
    a new, empty box in the browser, and what the clerk typed meanwhile is gone (seen under load)."""
    at = sign_in("wang", "password-wang")
    after_sign_in = _path_of(at.main, "facts_text")
    at.run()
    assert after_sign_in is not None and _path_of(at.main, "facts_text") == after_sign_in


LIBRARY = ":material/menu_book: 我的范文"


def test_past_summaries_uploaded_on_the_page_are_the_clerks_own(office) -> None:
    """wang uploads a past summary on the 我的范文 view: the report names it and its sections, it is
    listed for wang only (li's list is empty), and wang can remove it again."""
    from tests.test_index import DOCX_BODY, _docx_bytes

    wang = sign_in("wang", "password-wang")
    wang.segmented_control(key="view").set_value(LIBRARY).run()
    assert "还没有" in texts(wang.caption)
    wang.file_uploader(key="uploads_0").set_value(("区总.docx", _docx_bytes(DOCX_BODY), "application/octet-stream")).run()
    click(wang, "加入我的范文")
    assert "加入总结 1 篇" in texts(wang.success) and "某区总工会2021年全年工作总结" in texts(wang.success)
    assert "某区总工会2021年全年工作总结" in texts(wang.markdown)

    li = sign_in("li", "password-li-1")
    li.segmented_control(key="view").set_value(LIBRARY).run()
    assert "已加入的范文（0 篇）" in texts(li.markdown) and "某区总工会" not in texts(li.markdown)

    wang.run()
    remove = next(b for b in wang.button if b.key and b.key.startswith("remove_"))
    remove.click().run()
    assert "已删除范文" in texts(wang.success) and "已加入的范文（0 篇）" in texts(wang.markdown)
