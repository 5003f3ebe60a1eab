"""工会工作总结起草页面 (Streamlit). Thin: every decision lives in `drafting/`.

Flow: ① inputs and bullets (autosaved) → ② the planned outline, editable → ③ the draft, written
in a background job with live progress, then checked, editable, exportable; every version is
kept in the history. Buttons act through callbacks, so state changes land before the page draws.
"""
from __future__ import annotations

from datetime import datetime
from html import escape

import streamlit as st

from drafting import service
from drafting.config import EXAMPLES_DIR, get_settings
from drafting.export import FONT_NOTE, PdfUnavailable
from drafting.export.pdf import available as pdf_available
from drafting.flow.assemble import section_heading
from drafting.flow.request import MAX_BULLETS, MAX_TOTAL_CHARS, PERIODS, RequestError, parse_facts_text
from drafting.flow.revise import can_regenerate
from drafting.flow.screen import ignored_note
from drafting.headings import ordinal
from drafting.model import server as model_server
from drafting.page import jobs
from drafting.page import outline as oe
from drafting.page import state as ps
from drafting.page.highlight import diff_html, draft_html, findings_html, md_escape
from drafting.page.library import library_view
from drafting.page.material import import_panel
from drafting.store import KIND_ZH, Draft, User, get_accounts, get_store
from drafting.store.accounts import SESSION_S

SAMPLE_FACTS = EXAMPLES_DIR / "facts_street_2024h1.txt"
SAMPLE_ORG, SAMPLE_PERIOD, SAMPLE_YEAR = "东湖街道总工会", "上半年", "2024"
VIEWS = (":material/edit_note: 起草", ":material/history: 历史版本", ":material/menu_book: 我的范文")
STAGES = ("② 确认提纲", "③ 初稿与核对")
SLOW_AFTER_S = 45
FACTS_HELP = ("每行一条要点，写清数字和单位（如“新建工会8家”“发放慰问金36万元”）。"
              "以 # 或【】开头的行是您自己的小标题，下面的要点归入该节，顺序照您的写。")
FACTS_PLACEHOLDER = ("# 组织建设\n新建非公企业工会8家，新发展会员1200名\n# 帮扶送温暖\n"
                     "春节走访慰问困难职工120户，发放慰问金36万元\n……")

st.set_page_config(page_title="工会工作总结起草", page_icon="📝", layout="wide")
state = st.session_state
settings = get_settings()
store = get_store()
accounts = get_accounts()

PAGE_CSS = """<style>
.block-container{padding-top:2.2rem;max-width:1500px}
h1{font-size:1.75rem!important}
.step-title{font-size:1.08rem;font-weight:700;margin:.1rem 0 .35rem 0}
.muted{color:#667085;font-size:.86rem}
.outline-fact{font-size:.95rem;line-height:1.55;padding:.3rem 0 0 .2rem}
.ordinal{white-space:nowrap;font-weight:700}
.source{border-left:3px solid #d0d5dd;padding:.2rem 0 .2rem .8rem;margin:.3rem 0 .8rem 0}
.source-title{font-weight:600}
.source-text{font-size:.9rem;line-height:1.7;color:#344054;max-height:9.5em;overflow-y:auto}
.st-key-facts_text textarea,.st-key-editor textarea{font-size:15px;line-height:1.7}
</style>"""
# Streamlit commits a text area on blur or Ctrl+Enter; commit after a pause in typing as well,
# so that the autosave has the text even if the page is refreshed while the cursor is still in it.
COMMIT_WHILE_TYPING_JS = """<script>
(() => {
  if (window.__draftingCommit) return;
  window.__draftingCommit = true;
  let timer = null;
  document.addEventListener("input", (event) => {
    const el = event.target;
    if (!(el instanceof HTMLTextAreaElement) || !el.closest(".st-key-facts_text, .st-key-editor")) return;
    clearTimeout(timer);
    timer = setTimeout(() => el.dispatchEvent(new KeyboardEvent("keydown",
      {key: "Enter", code: "Enter", keyCode: 13, ctrlKey: true, bubbles: true})), 1200);
  }, true);
})();
</script>"""


# ---------------------------------------------------------------- who is here


SESSION_COOKIE = "drafting_session"


def signed_in() -> User | None:
    """The user at this page: named by the trusted single-sign-on header when one is configured,
    else signed in with the form — in this browser session, or in an earlier one whose cookie
    still names a live session (a refresh or a page-server restart does not sign anyone out).
    None without accounts (the one local user) or before sign-in."""
    user: User | None = state.get("user")
    if settings.trusted_user_header and (name := st.context.headers.get(settings.trusted_user_header)):
        if user is None or user.name != name:  # looked up once, not at every call of a rerun
            state["user"] = user = accounts.user(name)
        return user
    token = st.context.cookies.get(SESSION_COOKIE) if user is None else None
    if isinstance(token, str) and token and (user := accounts.user_for_session(token)) is not None:
        state.update(user=user, _session=token)
    return user


def set_cookie_script(token: str) -> str:
    """The browser keeps the sign-in token (an empty one signs out); the page's own origin only."""
    age = SESSION_S if token else 0
    cookie = f"{SESSION_COOKIE}={token}; path=/; max-age={age}; SameSite=Strict"
    return f'<script>document.cookie = "{cookie}" + (location.protocol === "https:" ? "; Secure" : "");</script>'


def my_id() -> int | None:
    """The account new drafts and jobs belong to (None: the one local user)."""
    return user.id if (user := signed_in()) is not None else None


def only_user() -> int | None:
    """The drafts shown: a user's own, or every draft for an admin and without accounts."""
    user = signed_in()
    return None if user is None or user.is_admin else user.id


def on_sign_in() -> None:
    user = accounts.authenticate(state["sign_in_name"], state["sign_in_password"])
    state["sign_in_password"] = ""
    if user is None:
        state["sign_in_error"] = "用户名或密码不正确。"
        return
    state.clear()  # nothing of an earlier user stays in this browser session
    token = accounts.start_session(user)
    state.update(user=user, _session=token, _cookie=token)


def on_sign_out() -> None:
    autosave()
    if token := state.get("_session"):
        accounts.end_session(token)
    state.clear()
    state["_cookie"] = ""


def sign_in_view() -> None:
    st.title(":material/edit_document: 工会工作总结起草")
    if settings.trusted_user_header and (name := st.context.headers.get(settings.trusted_user_header)):
        st.error(f"单点登录传来的用户 {name} 还没有在本系统中添加。请联系单位管理员运行 "
                 f"python -m drafting users add {name}。", icon=":material/person_off:")
        return
    with st.container(border=True, width=420):
        st.markdown('<div class="step-title">登录</div>', unsafe_allow_html=True)
        st.text_input("用户名", key="sign_in_name")
        st.text_input("密码", type="password", key="sign_in_password")
        st.button("登录", type="primary", on_click=on_sign_in, width="stretch")
        if error := state.pop("sign_in_error", None):
            st.error(error, icon=":material/front_hand:")
        st.caption("还没有账号？请单位管理员运行 python -m drafting users add 用户名 添加。"
                   "登录后，您的要点、草稿和历史版本只有您自己（和管理员）能看到。")


# ---------------------------------------------------------------- state, autosave, jobs


def input_key() -> str:
    return service.owner_key(my_id()) or "current"


def autosave() -> None:
    """Write the remembered state to the store when it changed since the last write."""
    if "_restored" not in state:  # nothing restored yet (signing in): nothing of this user to save
        return
    snap = ps.snapshot(state)
    if snap != state.get("_saved"):
        store.save_input(snap, input_key())
        state["_saved"] = snap
        state["_saved_at"] = datetime.now().strftime("%H:%M:%S")


def restore_once() -> None:
    if "_restored" in state:
        return
    store.recover_interrupted()  # rows of drafts whose page or API process died: input kept, marked
    saved = store.load_input(input_key())
    ps.restore(state, saved)
    state["_saved"] = ps.snapshot(state)
    state["_restored"] = True
    state.setdefault("view", VIEWS[0])
    state.setdefault("stage", STAGES[1] if state["draft_id"] else STAGES[0])


def absorb_finished_job() -> None:
    """Turn a finished background job into page state (the new version, or a message)."""
    if not state["job_id"]:
        return
    job = jobs.get_job(state["job_id"], my_id())
    if job is None:  # the server restarted while a job ran
        state["job_id"] = None
        state["notice"] = ("info", "上次的生成任务因页面服务重启而中断。已完成的版本可在“历史版本”中找到；也可以重新生成。")
        return
    view = job.view()
    if not view.finished:
        return
    state["job_id"] = None
    if view.status == jobs.DONE:
        state["draft_id"] = view.draft_id
        state["stage"] = STAGES[1]
        state["editing"] = False
        state["notice"] = ("toast", f"已生成并保存为版本 #{view.draft_id}（用时 {view.elapsed:.0f} 秒）。")
    elif view.status == jobs.CANCELLED:
        state["notice"] = ("info", view.message)
    else:
        state["job_error"] = view.message
        state["job_error_kind"] = view.kind


def current_job() -> jobs.Job | None:
    job = jobs.get_job(state["job_id"], my_id())
    return job if job is not None and job.status == jobs.RUNNING else None


# ---------------------------------------------------------------- callbacks


def on_sample() -> None:
    """Fill the (empty) bullets with the sample, and its year and period; the body name only if empty."""
    state.update(facts_text=SAMPLE_FACTS.read_text(encoding="utf-8"), period=SAMPLE_PERIOD, year=SAMPLE_YEAR)
    if not state["org"].strip():
        state["org"] = SAMPLE_ORG


def on_plan() -> None:
    state["input_error"] = None
    try:
        work = service.intake_text(state["org"], state["period"], state["year"], state["facts_text"], ps.options(state),
                                   service.owner_key(my_id()))
    except RequestError as exc:
        state["input_error"] = str(exc)
        return
    state["ignored_facts"] = work.ignored
    state["outline"] = oe.editable(service.outline(work))
    state["outline_basis"] = ps.input_basis(state)
    state["outline_error"] = None
    state["stage"] = STAGES[0]


def on_outline(change, *args) -> None:
    state["outline"] = change(state["outline"], *args)


def on_rename(uid: str) -> None:
    on_outline(oe.rename_section, uid, state[f"heading_{uid}"])


def on_title(key: str) -> None:
    on_outline(oe.set_title, state[key])


def on_move_fact(uid: str, index: int, key: str) -> None:
    on_outline(oe.move_fact, uid, index, state[key])


def outline_intake() -> service.Intake | None:
    """The intake the edited outline describes; None (and the reason shown) when it is not valid."""
    try:
        return oe.intake_for_outline(state["org"], state["period"], state["year"], state["outline"],
                                     ps.options(state), service.owner_key(my_id()))
    except RequestError as exc:
        state["outline_error"] = str(exc)
        return None


def on_generate() -> None:
    state["outline_error"] = state["job_error"] = None
    if (work := outline_intake()) is None:
        return
    start_job(lambda: jobs.start_draft(store, work, oe.to_outline(state["outline"]), my_id()))


def on_regenerate(draft_id: int) -> None:
    state["job_error"] = None
    base = store.get_draft(draft_id, only_user())
    if base is not None:
        start_job(lambda: jobs.start_rewrite(store, base, state["regen_index"], my_id()), "regenerate")


def start_job(start, kind: str = "draft") -> None:
    if (running := jobs.running_job(my_id())) is not None:
        state["job_id"] = running.id  # follow this user's run already under way instead of starting another
        state["notice"] = ("info", "您已有一个生成任务在进行，下面显示它的进度。")
        return
    try:
        state["job_id"] = start().id
    except service.QueueFull as exc:  # nothing was stored; the bullets and the outline stay
        state["job_error"], state["job_error_kind"] = service.busy_message(exc), kind
        return
    state["stage"] = STAGES[1]
    state["editing"] = False


def on_edit(draft: Draft) -> None:
    state["editor"] = draft.text
    state["editing"] = True


def on_recheck(draft_id: int) -> None:
    base = store.get_draft(draft_id, only_user())
    if base is None:
        return
    new_id, report = service.edit(store, base, state["editor"])
    state["editing"] = False
    if new_id is None:
        state["notice"] = ("toast", "正文没有改动，核对结果不变。")
        return
    state["draft_id"] = new_id
    problems = [f"{n} 处{what}" for n, what in ((len(report["unsupported"]), "数字找不到依据"),
                                                (len(report.get("claims", [])), "表述找不到依据")) if n]
    verdict = "核对通过" if report["ok"] else "有" + "、".join(problems)
    state["notice"] = ("toast", f"已重新核对并保存为版本 #{new_id}：{verdict}。")


def on_open(draft_id: int) -> None:
    state.update(draft_id=draft_id, view=VIEWS[0], stage=STAGES[1], editing=False)


def on_delete(draft_id: int) -> None:
    if not store.delete_draft(draft_id, only_user()):
        return
    if state["draft_id"] == draft_id:
        state["draft_id"] = None
        state["editing"] = False
    state["notice"] = ("toast", f"已删除版本 #{draft_id}。")


# ---------------------------------------------------------------- small helpers


def when(created_at: str) -> str:
    return created_at[:16].replace("T", " ")


def show_notice() -> None:
    """The message left by the last action: a passing toast, or a box that stays (info, warning)."""
    if notice := state.pop("notice", None):
        kind, text = notice
        if kind == "toast":
            st.toast(text, icon=":material/check_circle:")
        else:
            getattr(st, kind)(text)


@st.cache_data(ttl=15, show_spinner=False)
def embedded_running(port: int) -> bool:
    return bool(model_server.status(port=port, settings=settings)["running"])


# ---------------------------------------------------------------- panels


def settings_panel() -> None:
    with st.sidebar:
        st.markdown("### :material/settings: 设置")
        if settings.uses_embedded_model and current_job() is not None:
            st.badge("内置模型正在写作", icon=":material/edit_note:", color="blue")
        elif settings.uses_embedded_model:
            if embedded_running(settings.model_port):
                st.badge("内置模型已启动", icon=":material/check_circle:", color="green")
            else:
                st.badge("内置模型未启动：生成时自动启动（约需 10 秒）", icon=":material/schedule:", color="gray")
        else:
            st.badge("使用配置的模型服务", icon=":material/cloud:", color="blue")
        st.radio("写作方式", list(ps.STRATEGIES), format_func=ps.STRATEGIES.get, key="strategy",
                 persist_state="session")
        st.slider("每节参考范文数", 0, 5, key="n_examples", persist_state="session",
                  help="从过去的总结中找相近的段落，只借鉴文风和措辞，不取其中任何数字。")
        st.divider()
        if (user := signed_in()) is not None:
            role = "管理员，可查看全单位的草稿" if user.is_admin else "草稿仅自己可见"
            st.caption(f"已登录：{user.name}（{role}）")
            if not settings.trusted_user_header:
                st.button("退出登录", icon=":material/logout:", on_click=on_sign_out)
        with st.expander("高级（供管理员参考）", icon=":material/tune:"):
            st.caption(f"模型服务：{settings.endpoint_label}")
            st.caption("更换模型：在项目根目录的 .env 中设置 DRAFTING_LLM_BASE_URL、DRAFTING_LLM_MODEL "
                       "（及 DRAFTING_LLM_API_KEY），然后重启页面。")
            st.caption(f"历史版本与自动保存：{store.label}")
            if user is None:
                st.caption("未启用账号：本页面供本机一人使用。多人共用一台服务器时，先运行 "
                           "python -m drafting users add 用户名 --admin 添加账号，再把页面开放到局域网"
                           "（DRAFTING_PAGE_ADDRESS）。")


def inputs_panel() -> None:
    st.markdown('<div class="step-title">① 基本信息与工作要点</div>', unsafe_allow_html=True)
    st.text_input("单位名称", key="org", placeholder="如：东湖街道总工会", persist_state="session")
    c1, c2, c3 = st.columns([1.1, 1, 1.3])
    c1.selectbox("总结期间", PERIODS, key="period", persist_state="session")
    c2.text_input("年份", key="year", max_chars=4, persist_state="session")
    c3.selectbox("目标篇幅", list(ps.LENGTHS), key="length", persist_state="session")
    st.text_area("工作要点", key="facts_text", height=340, help=FACTS_HELP, placeholder=FACTS_PLACEHOLDER,
                 persist_state="session")
    sections = parse_facts_text(state["facts_text"])
    n_facts = sum(len(s.facts) for s in sections)
    n_chars = sum(len(f) for s in sections for f in s.facts)
    headings = sum(1 for s in sections if s.title)
    counts = f"{n_facts} 条要点" + (f"，{headings} 个小标题" if headings else "") + f"，{n_chars} 字"
    if n_facts > MAX_BULLETS or n_chars > MAX_TOTAL_CHARS:
        counts += f"（超出上限：最多 {MAX_BULLETS} 条、{MAX_TOTAL_CHARS} 字）"
    saved = f" · 已自动保存 {state['_saved_at']}" if state.get("_saved_at") else " · 输入会自动保存"
    st.markdown(f'<div class="muted">{counts}{saved}</div>', unsafe_allow_html=True)
    st.checkbox("由系统计算同比增减和占比", key="derive", persist_state="session",
                help="要点写有“去年同期×××”或“其中×××”时，由系统算出增减幅度或占比，附在该条要点后，"
                     "并在初稿下方说明哪些数字由系统计算。模型自己算出的百分比一律标为无依据。")
    b1, b2 = st.columns([1, 1.3])
    b1.button("填入示例要点", on_click=on_sample, disabled=bool(state["facts_text"].strip()),
              help="要点框为空时可用：填入一份街道总工会上半年的示例要点。", width="stretch")
    planned = bool(state["outline"])
    b2.button("重新生成提纲" if planned else "生成提纲 →", type="secondary" if planned else "primary",
              on_click=on_plan, width="stretch", disabled=current_job() is not None,
              help="按当前要点重新规划提纲；您对提纲的修改会被替换。" if planned else "先看看打算怎么分节，确认后再写。")
    if state.get("input_error"):
        st.error(f"{state['input_error']}\n\n您输入的内容都已保留。", icon=":material/front_hand:")
    import_panel(state)


def welcome_panel() -> None:
    st.markdown('<div class="step-title">怎样使用</div>', unsafe_allow_html=True)
    st.markdown(
        "1. 在左侧填写单位名称、期间和年份，逐行写下本期的**工作要点和数字**（可点“填入示例要点”先试一试）。\n"
        "2. 点 **生成提纲**：先看看打算怎么分节，可以改标题、调顺序、挪动要点、删掉不要的小节。\n"
        "3. 点 **生成初稿**：逐节写作，边写边显示，可随时取消。\n"
        "4. 初稿中的**每个数字都会与您的要点核对**：找不到依据的数字标红并说明原因；"
        "可以直接修改正文再核对，或只重写某一节。\n"
        "5. 导出 Word（公文格式）或 Markdown；每一版都保存在“历史版本”中。")
    st.caption("您输入的内容随时自动保存，刷新页面或重启都不会丢失。")


def outline_panel() -> None:
    outline = state["outline"]
    st.markdown('<div class="step-title">② 确认提纲</div>', unsafe_allow_html=True)
    st.caption("按这个提纲逐节写作。可以改小节标题、用 ↑↓ 调整顺序、把要点移到别的小节、删除不需要的小节。")
    if state["outline_basis"] != ps.input_basis(state):
        c1, c2 = st.columns([3, 1.4], vertical_alignment="center")
        c1.warning("左侧的要点或基本信息改过了，这份提纲还是按之前的内容生成的。", icon=":material/warning:")
        c2.button("按当前要点重新生成提纲", on_click=on_plan, width="stretch")
    if state.get("ignored_facts"):
        st.warning(ignored_note(state["ignored_facts"]), icon=":material/shield:")
    title_key = f"title_{outline['sections'][0]['uid'] if outline['sections'] else 'empty'}"
    st.text_input("总结标题", value=outline["title"], key=title_key, on_change=on_title, args=(title_key,))
    sections = outline["sections"]
    labels = {s["uid"]: f"{ordinal(i + 1)}、{s['heading'][:12]}" for i, s in enumerate(sections)}
    for i, section in enumerate(sections):
        uid = section["uid"]
        with st.container(border=True, gap="small"):
            head = st.columns([0.8, 8, 1, 1, 1], vertical_alignment="center", gap="small")
            head[0].markdown(f'<div class="ordinal">{ordinal(i + 1)}、</div>', unsafe_allow_html=True)
            head[1].text_input(f"第{ordinal(i + 1)}节标题", value=section["heading"], key=f"heading_{uid}",
                               on_change=on_rename, args=(uid,), label_visibility="collapsed")
            head[2].button("", icon=":material/arrow_upward:", key=f"up_{uid}", help="上移", disabled=i == 0,
                           width="stretch", on_click=on_outline, args=(oe.move_section, uid, -1))
            head[3].button("", icon=":material/arrow_downward:", key=f"down_{uid}", help="下移",
                           disabled=i == len(sections) - 1, width="stretch",
                           on_click=on_outline, args=(oe.move_section, uid, 1))
            head[4].button("", icon=":material/delete:", key=f"drop_{uid}", help="删除此小节（连同其中的要点）",
                           width="stretch", on_click=on_outline, args=(oe.drop_section, uid))
            if not section["facts"]:
                st.caption("此小节暂无要点，写作时会略过。")
            for j, fact in enumerate(section["facts"]):
                row = st.columns([3, 1.3], vertical_alignment="center")
                row[0].markdown(f'<div class="outline-fact">• {escape(fact)}</div>', unsafe_allow_html=True)
                key = f"move_{uid}_{j}_{abs(hash(fact)) % 10**8}"
                row[1].selectbox("归入小节", list(labels), index=i, format_func=labels.get, key=key,
                                 label_visibility="collapsed", on_change=on_move_fact, args=(uid, j, key),
                                 help="把这条要点移到另一节")
    c1, c2 = st.columns([1, 2])
    c1.button("＋ 新增小节", on_click=on_outline, args=(oe.add_section, "新的小节"), width="stretch")
    c2.button("生成初稿", type="primary", on_click=on_generate, width="stretch", disabled=current_job() is not None)
    if state.get("outline_error"):
        st.error(state["outline_error"], icon=":material/front_hand:")


def _progress_text(view: jobs.JobView) -> tuple[float, str]:
    elapsed = f"已用时 {view.elapsed:.0f} 秒"
    current = view.current
    if view.waiting_behind:
        return 0.0, f"模型正忙：前面还有 {view.waiting_behind} 份草稿在排队，轮到后自动开始（{elapsed}）"
    if current is None and not view.sections:
        return 0.0, f"正在准备：连接模型、检索参考范文…（{elapsed}）"
    done = sum(1 for s in view.sections if s.done)
    total = max(view.total, 1)
    if current is None:
        return min(done / total, 1.0), f"已写完 {done}/{total} 节，正在核对全文…（{elapsed}）"
    doing = current.note or "正在写"
    return min(done / total, 1.0), f"第 {current.index + 1}/{total} 节「{current.title}」{doing}（{elapsed}）"


def _checked_note(section: jobs.SectionProgress) -> str:
    """A long section is checked part by part: say how much of the text shown is checked."""
    return f"前 {section.checked} 字已核对" if section.checked and not section.done else ""


@st.fragment(run_every=1.0)
def progress_panel() -> None:
    job = jobs.get_job(state["job_id"], my_id())
    if job is None or job.view().finished:
        st.rerun(scope="app")
    view = job.view()
    label = "正在重写一节" if view.kind == "regenerate" else "正在生成初稿"
    st.markdown(f'<div class="step-title">③ {label}</div>', unsafe_allow_html=True)
    fraction, text = _progress_text(view)
    c1, c2 = st.columns([4, 1], vertical_alignment="center")
    c1.progress(fraction, text=text)
    c2.button("取消", icon=":material/stop_circle:", on_click=job.cancel, width="stretch", key="cancel_job",
              help="停止生成；要点和提纲都会保留")
    if view.idle > SLOW_AFTER_S:
        st.warning(f"模型已有 {view.idle:.0f} 秒没有输出。它可能正忙（这台机器上可能还有其他任务）。"
                   "可以继续等待；也可以取消，稍后重试，或在设置中换用更快的模型服务。", icon=":material/hourglass_top:")
    shown = view.sections if view.kind == "draft" else view.sections[-1:]
    if shown:
        title = state["outline"]["title"] if view.kind == "draft" and state["outline"] else ""
        lines = [title] if title else []
        for s in shown:
            lines += [section_heading(s.index, s.title), s.text + ("" if s.done else " ▍")]
        st.html(draft_html("\n".join(lines), {}))
    if notes := [f"{ordinal(s.index + 1)}、{s.title}：{note}" for s in shown if (note := s.note or _checked_note(s))]:
        st.caption("数字核对：" + "；".join(notes))


def error_panel() -> None:
    st.error(f"生成没有完成：{state['job_error']}", icon=":material/error:")
    regenerate = state.get("job_error_kind") == "regenerate"
    retry = "在下方再点“重写一节”" if regenerate else "点“重试”"
    if settings.uses_embedded_model:
        way = (f"可以{retry}。如果仍然连接不上，可在终端运行 `.venv/bin/python -m drafting model start` "
               "启动内置模型后再试。")
    else:
        way = f"可以{retry}，或检查 .env 中的 DRAFTING_LLM_BASE_URL / DRAFTING_LLM_MODEL 是否正确。"
    st.markdown(("原来的版本没有改动。" if regenerate else "您的要点和提纲都已保存，不会丢失。") + way)
    if not regenerate:
        st.button("重试", type="primary", on_click=on_generate, disabled=not state["outline"])


def badge(draft: Draft) -> None:
    check = draft.check
    facts_found = sum(1 for f in check.get("figures", []) if f.get("class", f.get("cls")) == "FACT")
    missing = check.get("missing", [])
    n_figures, n_claims = len(check.get("unsupported", [])), len(check.get("claims", []))
    if n_figures or n_claims:
        found = []
        if n_figures:
            found.append(f"{n_figures} 处数字在要点中找不到依据或写错了事项（红色）")
        if n_claims:
            found.append(f"{n_claims} 处表述在要点中找不到依据（紫色）")
        st.error("核对发现：" + "；".join(found) + "。已在正文中标出，鼠标移到标记上可看原因。"
                 "请修改正文后重新核对，或重写相应小节。", icon=":material/error:")
        st.html(findings_html(check))
    elif not missing:
        st.success(f"数字核对通过：正文中的 {facts_found} 处数字都能在要点中找到依据，要点中的数字也都写进了正文；"
                   "所写工作均见于要点。", icon=":material/verified:")
    else:
        st.success(f"数字核对通过：正文中的 {facts_found} 处数字都能在要点中找到依据；所写工作均见于要点。",
                   icon=":material/verified:")
    if missing:
        items = "\n".join(f"- “{md_escape(m['text'])}”（要点：{md_escape(m['fact'])}）" for m in missing)
        st.warning(f"以下要点中的数字没有写进正文，请补上或确认可以不写：\n{items}", icon=":material/playlist_remove:")
    if check.get("warnings"):
        st.caption("虚线标出的是提示（如泛指的数量），不影响核对结果。")


def draft_panel(draft: Draft) -> None:
    meta = [f"版本 #{draft.id}", KIND_ZH.get(draft.kind, draft.kind), when(draft.created_at)]
    if draft.parent_id:
        meta.append(f"基于 #{draft.parent_id}")
    if draft.kind != "edited" and (seconds := draft.result.get("timings", {}).get("total")):
        meta.append(f"生成用时 {seconds:.0f} 秒")
    if model := draft.result.get("model"):
        meta.append(model)
    st.markdown(f'<div class="step-title">③ 初稿与核对</div><div class="muted">{" · ".join(meta)}</div>',
                unsafe_allow_html=True)
    badge(draft)
    if stale := ps.made_from_other_input(state, draft.request):
        st.warning(stale, icon=":material/history_edu:")
    for note in draft.result.get("notes", []):  # the fallback's reason, repaired sections, the length
        st.info(note, icon=":material/info:")
    if state["editing"]:
        st.text_area("修改正文（改完点“重新核对”，核对会针对您修改后的文字）", key="editor", height=560,
                     persist_state="session")
        c1, c2, _ = st.columns([1.4, 1, 2])
        c1.button("重新核对并保存", type="primary", on_click=on_recheck, args=(draft.id,), width="stretch")
        c2.button("放弃修改", on_click=state.update, kwargs={"editing": False}, width="stretch")
        return
    st.html(draft_html(draft.text, draft.check))
    toolbar(draft)
    sources(draft)


def toolbar(draft: Draft) -> None:
    busy = current_job() is not None
    c1, c2, c3, c4, c5 = st.columns(5, gap="small")
    c1.button("修改正文", icon=":material/edit:", on_click=on_edit, args=(draft,), width="stretch", disabled=busy)
    with c2.popover("重写一节", icon=":material/autorenew:", width="stretch", disabled=busy):
        headings = [s["heading"] for s in draft.result.get("sections", [])]
        if not headings:
            st.caption("这一版没有分节信息，无法单独重写。")
        elif not can_regenerate(draft):
            st.caption("正文中的小节标题（一、二、……）改动过或被删去，无法确定每一节的范围。"
                       "请在“修改正文”中恢复小节标题后再重写；您的文字不会被改动。")
        else:
            st.selectbox("重写哪一节", range(len(headings)), key="regen_index",
                         format_func=lambda i: section_heading(i, headings[i]))
            st.caption("只重写所选的一节，其他各节和您改过的文字保持原样。")
            st.button("重写这一节", type="primary", on_click=on_regenerate, args=(draft.id,), width="stretch")
    note = "" if draft.check.get("ok") else "（找不到依据的数字以红字黄底、表述以紫色波浪线标出，并附批注说明原因）"
    signed = state.get("signed_on")
    # Files are made when a button is pressed, not at every redraw (a PDF takes a LibreOffice run).
    for column, fmt, label, helps in (
            (c3, "docx", "Word", f"下载 Word 文档，公文格式（GB/T 9704），文末落款为单位名称和成文日期{note}"),
            (c4, "pdf", "PDF", f"下载 PDF，与 Word 文档同一版式，适合上传 OA 系统{note}"),
            (c5, "md", "Markdown", "下载 Markdown 文本（核对发现附在文末）")):
        filename, media_type = service.export_file(draft.title, fmt)
        missing = pdf_available() if fmt == "pdf" else None  # said on the button, not inside a broken file
        column.download_button(label, lambda fmt=fmt: export_data(draft, fmt, signed), filename, media_type,
                               on_click="ignore", icon=":material/download:", width="stretch",
                               help=missing or helps, disabled=missing is not None)
    with st.expander("落款与字体", icon=":material/signature:"):
        st.date_input("成文日期（Word、PDF 落款）", key="signed_on", format="YYYY/MM/DD")
        st.caption(FONT_NOTE)


def export_data(draft: Draft, fmt: str, signed) -> bytes:
    """The file for a download button; a PDF the server cannot make comes as a text that says why."""
    try:
        return service.export(draft, fmt, signed).data
    except PdfUnavailable as exc:
        return str(exc).encode()


def sources(draft: Draft) -> None:
    examples = draft.result.get("examples") or []
    with st.expander(f"参考范文（{len(examples)} 段；只借鉴文风，不取其中数字）", icon=":material/menu_book:"):
        if not examples:
            st.caption("这一版写作时没有使用参考范文。")
        for ex in examples:
            origin = "您加入的总结" if ex.get("source") == "user" else "范文库"
            meta = " · ".join(x for x in (origin, ex.get("org_level"), ex.get("period")) if x)
            st.html(f'<div class="source"><div class="source-title">《{escape(ex.get("title", ""))}》'
                    f' {escape(ex.get("heading") or "")}</div><div class="muted">{escape(meta)}</div>'
                    f'<div class="source-text">{escape(ex.get("text", ""))}</div></div>')
    with st.expander("这一版依据的要点", icon=":material/checklist:"):
        for section in draft.request.get("sections", []):
            if section.get("title"):
                st.markdown(f"**{md_escape(section['title'])}**")
            st.markdown("\n".join(f"- {md_escape(f)}" for f in section.get("facts", [])))


def drafting_view() -> None:
    left, right = st.columns([5, 7], gap="large")
    with left:
        inputs_panel()
    with right:
        show_notice()
        if current_job() is not None:
            progress_panel()
            return
        if state.get("job_error"):
            error_panel()
        draft = store.get_draft(state["draft_id"], only_user()) if state["draft_id"] else None
        if state["draft_id"] and draft is None:
            state["draft_id"] = None
        if draft is not None and state["outline"]:
            st.segmented_control("步骤", STAGES, key="stage", required=True, label_visibility="collapsed",
                                 persist_state="session")
        if draft is not None and (state["stage"] == STAGES[1] or not state["outline"]):
            draft_panel(draft)
        elif state["outline"]:
            outline_panel()
        elif not state.get("job_error"):
            welcome_panel()


def history_view() -> None:
    show_notice()
    drafts = store.list_drafts(only_user=only_user())
    st.markdown('<div class="step-title">历史版本</div>', unsafe_allow_html=True)
    st.caption("每次生成、重写一节和修改后核对的版本都自动保存，可以打开、比较和删除。")
    if not drafts:
        st.info("还没有保存的版本。生成初稿后，每一版都会出现在这里。")
        return
    with st.container(border=True, height=460 if len(drafts) > 6 else "content"):
        for d in drafts:
            c = st.columns([0.7, 5, 1.6, 0.9, 0.9], vertical_alignment="center")
            c[0].markdown(f"**#{d.id}**")
            parent = f" · 基于 #{d.parent_id}" if d.parent_id else ""
            current = " · **当前打开**" if d.id == state["draft_id"] else ""
            c[1].markdown(f"{md_escape(d.title)}  \n<span class='muted'>{when(d.created_at)} · "
                          f"{KIND_ZH.get(d.kind, d.kind)}{parent}{current}</span>", unsafe_allow_html=True)
            if d.ok:
                c[2].badge("核对通过", icon=":material/verified:", color="green")
            else:
                c[2].badge(f"{d.unsupported} 处无依据", icon=":material/error:", color="red")
            c[3].button("打开", key=f"open_{d.id}", on_click=on_open, args=(d.id,), width="stretch")
            with c[4].popover("删除", width="stretch"):
                st.markdown(f"删除版本 #{d.id}？此操作不能撤销。")
                st.button("确认删除", key=f"del_{d.id}", type="primary", on_click=on_delete, args=(d.id,))
    if len(drafts) < 2:
        return
    st.markdown('<div class="step-title">比较两个版本</div>', unsafe_allow_html=True)
    ids = [d.id for d in drafts]
    labels = {d.id: f"#{d.id} · {when(d.created_at)} · {KIND_ZH.get(d.kind, d.kind)}" for d in drafts}
    newer_default = state["draft_id"] if state["draft_id"] in ids else ids[0]
    parent = next((d.parent_id for d in drafts if d.id == newer_default), None)
    older_default = parent if parent in ids else ids[min(ids.index(newer_default) + 1, len(ids) - 1)]
    c1, c2 = st.columns(2)
    old_id = c1.selectbox("旧版本", ids, index=ids.index(older_default), format_func=labels.get, key="cmp_old")
    new_id = c2.selectbox("新版本", ids, index=ids.index(newer_default), format_func=labels.get, key="cmp_new")
    old, new = store.get_draft(old_id, only_user()), store.get_draft(new_id, only_user())
    if old is not None and new is not None:
        st.caption("红色删除线是旧版本有、新版本删去的文字；绿色是新版本新增的文字。")
        st.html(diff_html(old.text, new.text))


# ---------------------------------------------------------------- page

cookie_slot = st.empty()  # always here: a sign-in's cookie script must not shift the widgets below it
if (cookie := state.pop("_cookie", None)) is not None:
    with cookie_slot:
        st.html(set_cookie_script(cookie), unsafe_allow_javascript=True)
if accounts.configured() and signed_in() is None:
    st.html(PAGE_CSS)
    sign_in_view()
    st.stop()
restore_once()
absorb_finished_job()
autosave()
st.html(PAGE_CSS)
st.html(COMMIT_WHILE_TYPING_JS, unsafe_allow_javascript=True)
st.title(":material/edit_document: 工会工作总结起草")
st.caption("输入要点 → 确认提纲 → 生成初稿 → 核对、修改、导出。草稿中的每个数字都会与您的要点逐一核对。")
settings_panel()
st.segmented_control("视图", VIEWS, key="view", required=True, label_visibility="collapsed")
if state["view"] == VIEWS[1]:
    history_view()
elif state["view"] == VIEWS[2]:
    library_view(state, service.owner_key(my_id()))
else:
    drafting_view()
autosave()
