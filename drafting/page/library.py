"""The page's 我的范文 view: a clerk's own past summaries, uploaded with progress, reported
section by section, listed and removed again. They are retrieved for this clerk's drafts only
(`owner`), ahead of the shared corpus; nothing here touches the bullets being drafted."""
from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from drafting import service
from drafting.retrieval.userdocs import MAX_FILE_MB, SUFFIXES


def on_remove(state: MutableMapping[str, Any], owner: str, summary_id: str, title: str) -> None:
    removed = service.remove_example(summary_id, owner)
    state["library_report"] = ("success", f"已删除范文：{title}") if removed else ("warning", f"没有找到范文：{title}")


def _add(state: MutableMapping[str, Any], owner: str, files: list[Any]) -> None:
    bar = st.progress(0.0, text="准备读取文件……")

    def on_file(i: int, n: int, name: str) -> None:
        bar.progress(i / n, text=f"正在读取、切分并向量化第 {i + 1}/{n} 个文件：{name}")

    report = service.add_examples([(f.name, f.getvalue()) for f in files], owner, on_file)
    bar.progress(1.0, text="完成")
    state["library_report"] = ("warning" if report.errors or not report.summaries else "success", report.summary_zh())
    state["upload_round"] = state.get("upload_round", 0) + 1  # a fresh, empty uploader


def library_view(state: MutableMapping[str, Any], owner: str) -> None:
    st.markdown('<div class="step-title">我的范文</div>', unsafe_allow_html=True)
    whose = "只用于您自己的草稿，其他用户看不到。" if owner else "用于本机的所有草稿。"
    st.caption("上传本单位过去的工作总结，写作时优先参考其中相近段落的结构和措辞（只借鉴文风，不取其中任何数字）。"
               + whose)
    files = st.file_uploader(f"选择文件（Word、PDF、文本或 Markdown，每个不超过 {MAX_FILE_MB} MB，可多选）",
                             type=[s.lstrip(".") for s in SUFFIXES], accept_multiple_files=True,
                             key=f"uploads_{state.get('upload_round', 0)}")
    if st.button("加入我的范文", type="primary", disabled=not files, icon=":material/upload_file:"):
        _add(state, owner, list(files or []))
        st.rerun()  # the report below, an empty uploader, and the list with the new summaries
    if report := state.get("library_report"):
        kind, text = report
        (st.success if kind == "success" else st.warning)(text.replace("\n", "  \n"))
    mine = service.my_examples(owner)
    st.markdown(f"**已加入的范文（{len(mine)} 篇）**")
    if not mine:
        st.caption("还没有。上传后，这里列出每篇范文识别出的单位层级、期间和段落数。")
    for summary in mine:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.markdown(f"{summary['title']}  \n<span class='muted'>{summary['org_level'] or '层级未知'} · "
                    f"{summary['period'] or '期间未知'} · {summary['sections']} 段</span>", unsafe_allow_html=True)
        c2.button("删除", key=f"remove_{summary['id']}", icon=":material/delete:", width="stretch",
                  on_click=on_remove, args=(state, owner, summary["id"], summary["title"]))
