"""The page's 从材料导入要点: upload a report or a table of figures, see the proposed bullets
with where each was found, tick which to keep and under which heading, and add them to the
bullets. Cancelling leaves the bullets exactly as typed."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from drafting.flow.material import SUFFIXES, merge_into, propose
from drafting.flow.request import parse_facts_text
from drafting.retrieval.userdocs import UserFileError

NO_HEADING = "（不加小标题，自动分节）"
USE, TEXT, PLACE, SOURCE = "采用", "要点", "放在", "来源"


def on_read(state: MutableMapping[str, Any], files: list[Any]) -> None:
    rows, errors = [], []
    for upload in files:
        try:
            found = propose(upload.name, upload.getvalue())
        except UserFileError as exc:
            errors.append(str(exc))
            continue
        rows += [{USE: True, TEXT: p.text, PLACE: NO_HEADING, SOURCE: f"{upload.name} {p.source}"} for p in found]
    state.update(import_rows=rows or None, import_errors=errors, import_note="",
                 import_round=state.get("import_round", 0) + 1)


def on_merge(state: MutableMapping[str, Any], edited: list[dict[str, Any]]) -> None:
    placed = [(str(row[TEXT]).strip(), "" if row[PLACE] in (None, NO_HEADING) else str(row[PLACE]))
              for row in edited if row[USE] and str(row[TEXT] or "").strip()]
    state["facts_text"] = merge_into(state.get("facts_text", ""), placed)
    state.update(import_rows=None, import_errors=[], import_note=f"已加入 {len(placed)} 条要点，请在上面的要点框中核对。")


def on_cancel(state: MutableMapping[str, Any]) -> None:
    state.update(import_rows=None, import_errors=[], import_note="已取消导入，要点框未作任何改动。")


def import_panel(state: MutableMapping[str, Any]) -> None:
    rows = state.get("import_rows")
    if not st.toggle("从材料导入要点（月报、简报、统计表）", key="import_open") and not rows:
        return
    with st.container(border=True):
        st.caption("上传月报、信息简报（Word、PDF、文本）或数字统计表（Excel、CSV）。只摘出带数字或工作事项的原句、"
                   "原行，不改写，数字保持原样；由您勾选要哪些、放在哪个小标题下。")
        files = st.file_uploader("选择材料", type=[s.lstrip(".") for s in SUFFIXES], accept_multiple_files=True,
                                 key=f"material_{state.get('import_round', 0)}")
        st.button("读取材料", disabled=not files, on_click=on_read, args=(state, list(files or [])),
                  icon=":material/find_in_page:")
        for error in state.get("import_errors") or []:
            st.warning(error, icon=":material/error:")
        if note := state.get("import_note"):
            st.caption(note)
        if not rows:
            return
        headings = [NO_HEADING, *dict.fromkeys(s.title for s in parse_facts_text(state.get("facts_text", ""))
                                               if s.title)]
        st.caption(f"找到 {len(rows)} 条可能的要点。取消勾选不要的，可直接改字，可选择放在要点框已有的哪个小标题下"
                   "（要新的小标题，先在要点框里写一行“# 小标题”）。")
        edited = st.data_editor(
            rows, key=f"import_editor_{state.get('import_round', 0)}", hide_index=True, width="stretch",
            column_config={USE: st.column_config.CheckboxColumn(width="small"),
                           TEXT: st.column_config.TextColumn(width="large"),
                           PLACE: st.column_config.SelectboxColumn(options=headings, required=True),
                           SOURCE: st.column_config.TextColumn(disabled=True)})
        c1, c2 = st.columns(2)
        c1.button("加入要点", type="primary", on_click=on_merge, args=(state, edited), width="stretch")
        c2.button("取消导入", on_click=on_cancel, args=(state,), width="stretch")
