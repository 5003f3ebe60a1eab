"""The on-disk lexical index: exact statistics under adds and deletes, partitions, other processes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from drafting.retrieval.lexical import PRIVATE_PART, LexicalDoc, LexicalIndex, terms


def _doc(id_: str, part: str, source: str, owner: str, text: str, vector: np.ndarray | None = None) -> LexicalDoc:
    meta = {"summary_id": id_.split("#")[0], "source": source, "owner": owner, "kind": part}
    return LexicalDoc(id_, part, meta, text, np.full(4, len(text), dtype=np.float32) if vector is None else vector)


DOCS = [
    _doc("a#1", "topic", "seed", "", "开展职工技能竞赛，举办焊工比武"),
    _doc("a#2", "plan", "seed", "", "下一步继续开展技能竞赛和劳模评选"),
    _doc("b#1", "topic", "seed", "", "春节走访慰问困难职工，发放慰问金"),
    _doc("b#2", "opening", "seed", "", "上半年，在上级工会的领导下"),
    _doc("c#1", "topic", "user", "", "建设户外劳动者服务站点，方便环卫工人歇脚"),
    _doc("d#1", PRIVATE_PART, "user", "user:1", "职工技能竞赛焊工比武圆满结束 A"),
]


def _bm25(query: str, docs: list[str], text: str, k1: float = 1.2, b: float = 0.75) -> float:
    """Okapi BM25 of `text` for `query` over the collection `docs`, computed from scratch."""
    counted = [terms(d) for d in docs]
    avg = sum(sum(c.values()) for c in counted) / len(docs)
    mine = terms(text)
    norm = k1 * (1 - b + b * sum(mine.values()) / avg)
    total = 0.0
    for term in terms(query):
        df = sum(1 for c in counted if term in c)
        if df and term in mine:
            total += np.log1p((len(docs) - df + 0.5) / (df + 0.5)) * mine[term] * (k1 + 1) / (mine[term] + norm)
    return total


def test_scores_are_exact_bm25_after_adds_replacements_and_deletes(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex.sqlite3")
    index.add(DOCS)
    index.add([_doc("a#1", "topic", "seed", "", "开展职工技能竞赛，举办电工比武，工工工会会员")])  # replaced
    index.delete(["b#2", "missing"])
    kept = ["开展职工技能竞赛，举办电工比武，工工工会会员", *(d.text for d in DOCS if d.id not in ("a#1", "b#2"))]
    assert index.count() == len(kept) == 5
    query = "职工技能竞赛 电工比武 工工会会"
    got = index.scores(query, kept)
    expected = [_bm25(query, kept, text) for text in kept]
    assert np.allclose(got, expected, rtol=1e-5), (got, expected)
    # A fresh index of the same sections has the very same statistics.
    fresh = LexicalIndex(tmp_path / "fresh.sqlite3")
    fresh.add([_doc("a#1", "topic", "seed", "", kept[0]), *(d for d in DOCS if d.id not in ("a#1", "b#2"))])
    assert dict(index._db.execute("SELECT term, n FROM df WHERE n > 0")) == dict(fresh._db.execute("SELECT term, n FROM df"))


def test_candidates_keep_to_the_kind_leave_out_private_sections_and_excluded_summaries(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex.sqlite3")
    index.add(DOCS)
    assert [i for i, _ in index.candidates("技能竞赛焊工比武", 10, ["topic"])] == ["a#1"]
    assert {i for i, _ in index.candidates("技能竞赛焊工比武", 10, None)} == {"a#1", "a#2"}
    assert index.candidates("技能竞赛焊工比武", 10, ["topic"], exclude_summary_ids=["a"]) == []
    assert index.candidates("技能竞赛", 10, ["plan"]) == [("a#2", "plan")]
    assert index.candidates("完全无关的句子", 10, None) == []
    assert index.sections_where("summary_id", "a") == [("a#1", "topic"), ("a#2", "plan")]
    assert {i for i, _ in index.sections_where("source", "user")} == {"c#1", "d#1"}
    assert index.summary_counts() == {"seed": 2, "user": 2}


def test_another_process_sees_an_addition_at_once(tmp_path: Path) -> None:
    path = tmp_path / "lex.sqlite3"
    reader = LexicalIndex(path)
    reader.add(DOCS[:2])
    assert reader.candidates("走访慰问", 5, ["topic"]) == []
    script = ("import sys; from pathlib import Path; from drafting.retrieval.lexical import LexicalIndex, LexicalDoc;"
              "LexicalIndex(Path(sys.argv[1])).add([LexicalDoc('b#1', 'topic', {'summary_id': 'b', 'source': 'seed'},"
              " '春节走访慰问困难职工')])")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, cwd=Path(__file__).resolve().parent.parent)
    assert reader.candidates("走访慰问", 5, ["topic"]) == [("b#1", "topic")]
    assert reader.count() == 3


def test_rows_carry_metadata_and_vectors_and_a_metadata_update_keeps_the_vector(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex.sqlite3")
    index.add(DOCS)
    row = index.rows(["a#1"])[0]
    assert row.meta["summary_id"] == "a" and row.document == DOCS[0].text and row.vector is not None
    assert np.array_equal(row.vector, DOCS[0].vector)
    index.add([LexicalDoc("a#1", "topic", {**DOCS[0].meta, "title": "新标题"}, DOCS[0].text, None)])
    row = index.rows(["a#1"])[0]
    assert row.meta["title"] == "新标题" and row.vector is not None and np.array_equal(row.vector, DOCS[0].vector)
    assert [r.id for r in index.owned_by("user:1")] == ["d#1"] and index.owned_by("user:2") == []


def test_a_file_of_an_older_layout_starts_empty(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "lex.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE docs (rowid INTEGER PRIMARY KEY, id TEXT)")
        db.execute("INSERT INTO docs (id) VALUES ('old')")
    index = LexicalIndex(path)
    assert index.count() == 0 and index.ids() == set()
    index.add(DOCS[:1])
    assert LexicalIndex(path).count() == 1  # reopened: the new layout is kept
    with sqlite3.connect(path) as db:  # a layout this version does not know (a newer one): emptied too
        db.execute("PRAGMA user_version = 99")
    index = LexicalIndex(path)
    assert index.count() == 0 and index.candidates(DOCS[0].text, 5, ["topic"]) == []
    index.add(DOCS[:1])  # the part's old FTS5 table went with the rest: no rowid left behind to clash
    assert [i for i, _ in index.candidates(DOCS[0].text, 5, ["topic"])] == ["a#1"]


def test_a_file_of_layout_1_is_migrated_to_a_table_per_part(tmp_path: Path) -> None:
    """Layout 1 kept every section's bigrams in one FTS5 table with a part column: opening such a
    file moves them into the per-part tables, and candidates and deletes work as on a new file."""
    import sqlite3

    path = tmp_path / "lex.sqlite3"
    index = LexicalIndex(path)
    index.add(DOCS)
    expected = {part: index.candidates("技能竞赛焊工比武慰问", 10, [part]) for part in ("topic", "plan", PRIVATE_PART)}
    with sqlite3.connect(path, isolation_level=None) as db:  # rewrite the file as layout 1 had it
        db.execute("CREATE VIRTUAL TABLE grams USING fts5(part, body, tokenize='unicode61 remove_diacritics 0')")
        for (part,) in db.execute("SELECT part FROM parts").fetchall():
            db.execute(f"INSERT INTO grams (rowid, part, body) SELECT rowid, ?, body FROM grams_{part}", (part,))
            db.execute(f"DROP TABLE grams_{part}")
        db.execute("DROP TABLE parts")
        db.execute("PRAGMA user_version = 1")
    migrated = LexicalIndex(path)
    assert migrated.count() == len(DOCS)
    assert {part: migrated.candidates("技能竞赛焊工比武慰问", 10, [part]) for part in expected} == expected
    assert expected["topic"] and expected[PRIVATE_PART]
    migrated.delete(["a#1"])
    assert [i for i, _ in migrated.candidates("技能竞赛焊工比武", 10, ["topic"])] == []
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'grams'").fetchone()[0] == 0


def test_clear_empties_everything(tmp_path: Path) -> None:
    index = LexicalIndex(tmp_path / "lex.sqlite3")
    index.add(DOCS)
    index.clear()
    assert index.count() == 0 and index.ids() == set() and index.candidates("技能竞赛", 5, None) == []


@pytest.mark.parametrize("text", ["", "！！！", "A"])
def test_queries_without_usable_terms_find_nothing(tmp_path: Path, text: str) -> None:
    index = LexicalIndex(tmp_path / "lex.sqlite3")
    index.add(DOCS)
    assert index.candidates(text, 5, None) == [] and not index.scores(text, ["职工"]).any()
