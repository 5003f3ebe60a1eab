"""End to end in a real browser: the page served by `streamlit run app.py` on loopback, headless
Debian Chromium driven by Playwright, and the real embedded model.

Data: a temporary DRAFTING_DATA_DIR (its own history and autosave, so the user's are untouched)
whose `models`, `index` and `tiktoken` folders link to the repository's `data/`, where
`scripts/bootstrap.sh` assembled the model. The model server runs on a free port of its own.
Artefacts (screenshots, the downloaded .docx, measured timings) go to tests/artifacts/.
"""
from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import docx
import pytest

from drafting.config import REPO_ROOT
from drafting.export import CLAIM_COLOUR, MARK_COLOUR
from tests.conftest import free_port, wait_until
from tests.processes import page_args, running

pytestmark = [pytest.mark.browser, pytest.mark.model]

ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
# Two bullets in two sections of the user's own: small enough for a 2-core CPU, and two sections
# so that "first section" and "whole draft" are different moments.
FACTS = "# 组织建设\n新建非公企业工会8家，新发展会员1200名\n# 帮扶送温暖\n春节走访慰问困难职工120户"
UNSUPPORTED = "另外举办职工培训班15期。"
# About 40 s for the whole draft on an idle 2-core machine; several times that when other jobs
# share the cores, so the limits are generous and the measured times are written out.
FIRST_SECTION_TIMEOUT_S, FULL_DRAFT_TIMEOUT_S = 300, 540


@pytest.fixture(scope="module")
def page_url(embedded_env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(page_args(port), embedded_env, f"{url}/_stcore/health", ARTIFACTS / "streamlit.log"):
        yield url


def test_bullets_to_checked_draft_to_docx(browser, page_url: str) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, accept_downloads=True, locale="zh-CN")
    page = context.new_page()
    external: list[str] = []
    local = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")
    page.on("request", lambda r: None if r.url.startswith(local) else external.append(r.url))
    page.goto(page_url)
    try:
        _bullets_to_docx(page)
    finally:
        page.screenshot(path=str(ARTIFACTS / "browser_last.png"))
        context.close()
    assert not external, f"the page reached outside loopback: {external}"


def _bullets_to_docx(page) -> None:
    facts_box = page.locator(".st-key-facts_text textarea")
    facts_box.wait_for(timeout=60_000)

    # Type the bullets; the page keeps them through a refresh even before the box loses focus.
    page.locator(".st-key-org input").fill("东湖街道总工会")
    page.locator(".st-key-year input").fill("2024")
    page.locator(".st-key-year input").press("Tab")
    facts_box.click()
    facts_box.fill(FACTS)
    page.wait_for_timeout(2500)
    page.reload()
    facts_box.wait_for(timeout=60_000)
    wait_until(lambda: facts_box.input_value() == FACTS, 20, "the autosaved bullets after a refresh")

    # Outline first.
    page.get_by_role("button", name="生成提纲 →").click()
    page.get_by_text("② 确认提纲").first.wait_for(timeout=30_000)
    headings = page.locator("[class*='st-key-heading_'] input")
    wait_until(lambda: headings.count() == 2, 20, "two outline sections")
    assert [headings.nth(i).input_value() for i in range(2)] == ["组织建设", "帮扶送温暖"]

    # Write with the embedded model: text appears while it is written.
    page.get_by_role("button", name="生成初稿").click()
    clicked = time.monotonic()
    doc = page.locator(".draft-doc")
    wait_until(lambda: doc.count() > 0 and "一、组织建设" in doc.first.inner_text()
                and len(doc.first.inner_text().split("一、组织建设", 1)[1].strip(" ▍\n")) >= 4,
                240, "the first streamed text")
    first_text = time.monotonic() - clicked
    page.screenshot(path=str(ARTIFACTS / "browser_writing.png"))
    finished = page.get_by_text(re.compile(r"^版本 #1 · "))
    wait_until(lambda: page.get_by_text(re.compile(r"第 2/2 节")).count() > 0 or finished.count() > 0,
                FIRST_SECTION_TIMEOUT_S, "the first finished section")
    first_section = time.monotonic() - clicked
    wait_until(lambda: finished.count() > 0, FULL_DRAFT_TIMEOUT_S, "the checked draft")
    full = time.monotonic() - clicked
    text = page.locator(".draft-doc").first.inner_text()
    assert "8家" in text and "1200名" in text and "120户" in text
    assert page.get_by_text("数字核对通过").count() > 0
    word = page.get_by_role("button", name="Word", exact=False)
    word.wait_for(timeout=30_000)  # the page has finished drawing
    page.screenshot(path=str(ARTIFACTS / "browser_draft.png"))

    # Edit in place: an unsupported figure is marked red with its reason after the re-check.
    page.get_by_role("button", name="修改正文").click()
    editor = page.locator(".st-key-editor textarea")
    editor.wait_for(timeout=30_000)
    edited = editor.input_value().replace("一、组织建设\n", "一、组织建设\n" + UNSUPPORTED, 1)
    assert UNSUPPORTED in edited
    editor.fill(edited)
    page.get_by_role("button", name="重新核对并保存").click()
    marked = page.locator("mark.bad")
    marked.first.wait_for(timeout=30_000)
    assert "15期" in marked.first.inner_text()
    assert marked.first.get_attribute("title")  # the reason, shown on hover
    assert page.get_by_text(re.compile("处数字在要点中找不到依据")).count() > 0
    word.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    page.locator("mark.bad").first.hover()
    page.screenshot(path=str(ARTIFACTS / "browser_unsupported.png"))

    # The .docx download holds the checked text, the unsupported figure still marked.
    with page.expect_download(timeout=30_000) as download:
        word.click()
    path = ARTIFACTS / "browser_download.docx"
    download.value.save_as(path)
    document = docx.Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "东湖街道总工会2024年上半年工作总结"
    assert paragraphs[-2] == "东湖街道总工会" and re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", paragraphs[-1])  # 落款
    joined = "\n".join(p for p in paragraphs[:-2] if p)
    for figure in ("8家", "1200名", "120户", "15期"):
        assert figure in joined
    assert joined == edited.strip("\n")
    coloured = [(r.text, r.font.color.rgb) for p in document.paragraphs for r in p.runs if r.font.color.rgb is not None]
    assert [text for text, rgb in coloured if rgb == MARK_COLOUR] == ["15期"]  # the unsupported figure, red
    assert [text for text, rgb in coloured if rgb == CLAIM_COLOUR] == ["另外举办职工培训班"]  # the invented work, violet

    # The PDF: the same layout, made on the server when the button is pressed.
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="PDF", exact=False).click()
    pdf_path = ARTIFACTS / "browser_download.pdf"
    download.value.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")

    # History holds both versions.
    page.locator(".st-key-view").get_by_text("历史版本").click()
    page.get_by_text("比较两个版本").wait_for(timeout=30_000)
    page.locator(".diff-doc ins").first.wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "browser_history.png"))
    timings = {"facts": FACTS, "click_to_first_text_s": round(first_text, 1),
               "click_to_first_section_s": round(first_section, 1), "click_to_full_draft_s": round(full, 1)}
    (ARTIFACTS / "browser_timings.json").write_text(json.dumps(timings, ensure_ascii=False, indent=2))
    print(timings)


@pytest.fixture(scope="module")
def own_page(embedded_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A page server with a data directory of its own (history, autosave and index), so that
    uploads leave the repository's index alone."""
    data = tmp_path_factory.mktemp("own-page-data")
    for name in ("models", "tiktoken"):
        if (REPO_ROOT / "data" / name).exists():
            (data / name).symlink_to(REPO_ROOT / "data" / name, target_is_directory=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(page_args(port), {**embedded_env, "DRAFTING_DATA_DIR": str(data)}, f"{url}/_stcore/health",
                 ARTIFACTS / "streamlit-own.log"):
        yield url


def _typed_bullets(page, url: str) -> Any:
    page.goto(url)
    facts_box = page.locator(".st-key-facts_text textarea")
    facts_box.wait_for(timeout=60_000)
    facts_box.fill(FACTS)
    facts_box.press("Control+Enter")
    page.get_by_text("2 条要点").wait_for(timeout=30_000)
    return facts_box


def test_past_summaries_uploaded_reported_and_removed(browser, own_page: str, tmp_path) -> None:
    """我的范文 in a real browser: a .docx and a .pdf made here (the PDF by LibreOffice) are uploaded
    with progress, reported with their sections, listed, and one removed; the bullets typed before
    are untouched."""
    from drafting.export.pdf import to_pdf
    from tests.test_index import DOCX_BODY, _docx_bytes

    word, pdf = tmp_path / "区总工会2021年总结.docx", tmp_path / "镇总工会2020年总结.pdf"
    word.write_bytes(_docx_bytes(DOCX_BODY))
    pdf.write_bytes(to_pdf(_docx_bytes([("Title", "某镇总工会2020年工作总结"), *DOCX_BODY[1:]])))
    context = browser.new_context(viewport={"width": 1440, "height": 1200}, locale="zh-CN")
    page = context.new_page()
    try:
        facts_box = _typed_bullets(page, own_page)
        page.locator(".st-key-view").get_by_text("我的范文").click()
        page.get_by_text("已加入的范文（0 篇）").wait_for(timeout=30_000)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files([word, pdf])
        page.get_by_text(pdf.name).wait_for(timeout=30_000)
        page.get_by_role("button", name="加入我的范文").click()
        page.get_by_text("加入总结 2 篇").wait_for(timeout=120_000)
        main = page.locator("[data-testid='stMain']")
        wait_until(lambda: "已加入的范文（2 篇）" in main.inner_text(), 30, "both summaries listed")
        report = main.inner_text()
        assert "某区总工会2021年全年工作总结（区总工会，年度）" in report
        assert "某镇总工会2020年工作总结（镇(总)工会，年度）" in report
        page.screenshot(path=str(ARTIFACTS / "browser_library.png"))
        page.locator("[class*='st-key-remove_']").first.get_by_role("button").click()
        page.get_by_text("已删除范文").wait_for(timeout=30_000)
        wait_until(lambda: "已加入的范文（1 篇）" in main.inner_text(), 30, "one summary left")
        page.locator(".st-key-view").get_by_text("起草").click()
        facts_box.wait_for(timeout=30_000)
        assert facts_box.input_value() == FACTS  # nothing typed was lost
    finally:
        page.screenshot(path=str(tmp_path / "library_last.png"))
        context.close()


def test_bullets_imported_from_a_report_a_table_and_a_pdf(browser, own_page: str, tmp_path) -> None:
    """从材料导入要点 in a real browser with a .docx report, an .xlsx table and a .pdf made here:
    the proposed bullets are shown with their source, cancelling changes nothing, adding puts
    them after what was typed with every figure as in the material."""
    from drafting.export.pdf import to_pdf
    from tests.test_index import _docx_bytes
    from tests.test_material import REPORT, REPORT_BULLETS, TABLE_BULLETS, report_docx, table_xlsx

    word, sheet, pdf = tmp_path / "三月简报.docx", tmp_path / "统计表.xlsx", tmp_path / "四月简报.pdf"
    word.write_bytes(report_docx())
    sheet.write_bytes(table_xlsx())
    april = [(style, text.replace("3月", "4月").replace("60人", "75人")) for style, text in REPORT]
    pdf.write_bytes(to_pdf(_docx_bytes(april)))
    april_bullets = [b.replace("3月", "4月").replace("60人", "75人") for b in REPORT_BULLETS]
    context = browser.new_context(viewport={"width": 1440, "height": 1600}, locale="zh-CN")
    page = context.new_page()
    try:
        facts_box = _typed_bullets(page, own_page)
        page.get_by_text("从材料导入要点").click()  # the toggle
        uploader = page.locator(".st-key-material_0 [data-testid='stFileUploaderDropzoneInput']")
        uploader.set_input_files([word, sheet, pdf])
        page.get_by_text(pdf.name).wait_for(timeout=30_000)
        page.get_by_role("button", name="读取材料").click()
        page.get_by_text("找到 7 条可能的要点").wait_for(timeout=60_000)
        page.locator("[data-testid='stDataFrame'] canvas").first.wait_for(timeout=30_000)
        page.wait_for_timeout(500)  # the grid paints after it is attached
        page.screenshot(path=str(ARTIFACTS / "browser_import.png"))
        page.get_by_role("button", name="取消导入").click()
        page.get_by_text("已取消导入").wait_for(timeout=30_000)
        assert facts_box.input_value() == FACTS  # cancelled: nothing changed, nothing lost

        page.locator(".st-key-material_1 [data-testid='stFileUploaderDropzoneInput']").set_input_files([word, sheet, pdf])
        page.get_by_text(pdf.name).wait_for(timeout=30_000)
        page.get_by_role("button", name="读取材料").click()
        page.get_by_text("找到 7 条可能的要点").wait_for(timeout=60_000)
        page.get_by_role("button", name="加入要点").click()
        page.get_by_text("已加入 7 条要点").wait_for(timeout=30_000)
        wait_until(lambda: facts_box.input_value() != FACTS, 30, "the merged bullets")
        merged = facts_box.input_value()
        lines = merged.split("\n")
        assert lines[:len(REPORT_BULLETS + TABLE_BULLETS + april_bullets)] == REPORT_BULLETS + TABLE_BULLETS + april_bullets
        assert merged.endswith(FACTS)  # what was typed, kept as typed
    finally:
        page.screenshot(path=str(tmp_path / "import_last.png"))
        context.close()
