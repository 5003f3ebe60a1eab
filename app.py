"""工会工作总结起草页面 (Streamlit). Thin: every decision lives in `drafting/`."""
from __future__ import annotations

import streamlit as st

from drafting.config import get_settings
from drafting.llm import LLMError
from drafting.pipeline import draft
from drafting.request import PERIODS, RequestError, build_request, parse_facts_text

EXAMPLE_FACTS = "examples/facts_street_2024h1.txt"

st.set_page_config(page_title="工会工作总结起草", layout="wide")
st.title("工会工作总结起草")
settings = get_settings()
st.caption(f"模型：{settings.endpoint_label}。草稿中的每个数字都会与要点核对。")

if "facts" not in st.session_state:
    from drafting.config import REPO_ROOT

    st.session_state.facts = (REPO_ROOT / EXAMPLE_FACTS).read_text(encoding="utf-8")

col_left, col_right = st.columns([2, 3])
with col_left:
    org = st.text_input("单位名称", value="东湖街道总工会")
    period = st.selectbox("总结期间", PERIODS[:3])
    year = st.text_input("年份", value="2024")
    st.text_area("工作要点（每行一条；以 # 或【】开头的行是您自己的小标题）", key="facts", height=320)
    go = st.button("生成初稿", type="primary")

with col_right:
    if go:
        try:
            request = build_request(org, period, year, parse_facts_text(st.session_state.facts))
        except RequestError as exc:
            st.error(str(exc))
            st.stop()
        status = st.status("正在起草…", expanded=True)
        live = st.empty()
        shown: list[str] = []

        def on_event(event: dict) -> None:
            if event["type"] == "section_started":
                status.update(label=f"正在写第 {event['index'] + 1}/{event['total']} 节：{event['title']}")
                shown.append(f"\n\n**{event['title']}**\n\n")
            elif event["type"] == "delta":
                shown.append(event["text"])
                live.markdown("".join(shown))

        try:
            result = draft(request, on_event=on_event)
        except LLMError as exc:
            status.update(label="生成失败", state="error")
            st.error(f"{exc}\n\n您输入的要点已保留，可稍后重试。")
            st.stop()
        status.update(label=f"完成，用时 {result.timings['total']:.0f} 秒", state="complete")
        live.empty()
        st.session_state.result = result.to_dict()
    if result := st.session_state.get("result"):
        check = result["check"]
        if check["ok"]:
            st.success("数字核对通过：草稿中的数字都来自要点。")
        else:
            st.error(f"有 {len(check['unsupported'])} 处数字在要点中找不到，请核对：")
            for item in check["unsupported"]:
                st.write(f"- “{item['text']}”：{item['reason']}")
        st.text_area("初稿", value=result["text"], height=520)
