"""The allow-list is data: the shipped file plus a user file, both plain text."""
from __future__ import annotations

from pathlib import Path

import pytest

from drafting.checker import FACT, LEXICON, SOFT, STRUCTURE
from drafting.checker.extract import extract_with
from drafting.checker.lexicon import SHIPPED_PATH, LexiconError, load_lexicon, parse_lines

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory


def classes(text: str, user_dir: Path | None = None) -> list[tuple[str, str]]:
    return [(f.text, f.cls) for f in extract_with(text, load_lexicon(user_dir))]


def test_parse_lines_categories_comments_and_quote_variants() -> None:
    entries = parse_lines(["# 注释", "", "三个代表", "两节  festival  # 春节和中秋", "“七五”普法\tplan", "多次 vague"], "test")
    assert entries == {"三个代表": "formula", "两节": "festival", "“七五”普法": "plan", "七五普法": "plan", "多次": "vague"}


@pytest.mark.parametrize("line", ["两节 holiday", "两节 festival extra"])
def test_parse_lines_rejects_bad_lines(line: str) -> None:
    with pytest.raises(LexiconError, match="第 1 行"):
        parse_lines([line], "lexicon.txt")


def test_shipped_file_is_valid_and_holds_the_policy_examples() -> None:
    entries = parse_lines(SHIPPED_PATH.read_text(encoding="utf-8").splitlines(), str(SHIPPED_PATH))
    for word in ("十九大", "五一", "两节", "十三五", "三个代表", "第一书记", "世界500强", "324国道", "千篇一律"):
        assert word in entries


def test_user_file_extends_the_allow_list(data_dir: Path) -> None:
    text = "举办“幸福100”系列活动,建成京基200大厦"
    assert ("京基200", FACT) not in classes(text) and ("200", FACT) in classes(text)
    data_dir.mkdir(parents=True)
    (data_dir / "lexicon.txt").write_text("京基200\tname\n百日攻坚行动 slogan\n", encoding="utf-8")
    assert ("京基200", LEXICON) in classes(text, data_dir) and ("京基200", LEXICON) not in classes(text)
    assert ("百日攻坚行动", LEXICON) in classes("开展百日攻坚行动", data_dir)
    assert load_lexicon(data_dir) is load_lexicon(data_dir)  # cached while the files do not change


def test_categories_map_to_classes(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "lexicon.txt").write_text("前半年 period\n好几回 vague\n一线天 word\n", encoding="utf-8")
    assert classes("前半年", data_dir) == [("前半年", STRUCTURE)]
    assert classes("好几回", data_dir) == [("好几回", SOFT)]
    assert classes("一线天", data_dir) == []


def test_an_entry_is_not_a_piece_of_a_longer_number() -> None:
    assert ("6.26", LEXICON) in classes("“6.26”国际禁毒日")
    assert [c for t, c in classes("金额16.26元") if t == "16.26元"] == [FACT]
    assert [c for t, c in classes("救助6.26万元") if t == "6.26万元"] == [FACT]
