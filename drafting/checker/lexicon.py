"""The allow-list (`checker/data/lexicon.txt`, plus a `lexicon.txt` in the user's word-list
folder when the caller names one).

Entries are plain words with a category; they are compiled once into a single trie-shaped
regular expression, and reloaded only when a file changes.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from drafting.checker.model import LEXICON, SOFT, STRUCTURE

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_PATH = DATA_DIR / "lexicon.txt"
USER_FILE = "lexicon.txt"

# Category → figure class; None means "an ordinary word, not a figure".
CATEGORY_CLASS: dict[str, str | None] = {
    "congress": LEXICON,
    "festival": LEXICON,
    "plan": LEXICON,
    "formula": LEXICON,
    "name": LEXICON,
    "slogan": LEXICON,
    "period": STRUCTURE,
    "structure": STRUCTURE,
    "vague": SOFT,
    "word": None,
}
NATIONAL = "national"
DEFAULT_CATEGORY = "formula"
_QUOTES = "“”‘’\"'「」『』"


class LexiconError(ValueError):
    """A malformed line of a word list (the user's file is user input); the message is Chinese."""


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per file version
class Lexicon:
    pattern: re.Pattern[str] | None
    category: dict[str, str]
    national: tuple[str, ...]


def word_lines(lines: list[str], source: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, word, category or None) of a word-list file: one entry a line, `#` starts
    a comment; a malformed line is the user's input error."""
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) > 2:
            raise LexiconError(f"{source} 第 {number} 行格式不对：应为“词语 类别”，实际为 {raw.strip()!r}")
        yield number, parts[0], parts[1] if len(parts) == 2 else None


def parse_lines(lines: list[str], source: str) -> dict[str, str]:
    """Entries of one file: {word: category}. Later files override earlier ones."""
    entries: dict[str, str] = {}
    for number, word, given in word_lines(lines, source):
        category = given or DEFAULT_CATEGORY
        if category != NATIONAL and category not in CATEGORY_CLASS:
            raise LexiconError(f"{source} 第 {number} 行的类别 {category!r} 无效")
        entries[word] = category
        bare = word.translate(str.maketrans("", "", _QUOTES))
        if bare and bare != word:
            entries.setdefault(bare, category)
    return entries


def _trie_regex(words: list[str]) -> str:
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


@lru_cache(maxsize=4)
def _compile(files: tuple[tuple[str, float], ...]) -> Lexicon:
    entries: dict[str, str] = {}
    for path, _mtime in files:
        entries.update(parse_lines(Path(path).read_text(encoding="utf-8").splitlines(), path))
    national = tuple(sorted((w for w, c in entries.items() if c == NATIONAL), key=len, reverse=True))
    words = [w for w, c in entries.items() if c != NATIONAL]
    pattern = re.compile(_trie_regex(words)) if words else None
    return Lexicon(pattern=pattern, category={w: c for w, c in entries.items() if c != NATIONAL}, national=national)


def stamped(files: list[Path]) -> tuple[tuple[str, float], ...]:
    """The files that exist, with their modification times (the cache key of a compiled list)."""
    return tuple((str(p), p.stat().st_mtime) for p in files if p.is_file())


def load_lexicon(user_dir: Path | None = None) -> Lexicon:
    """The shipped lexicon plus `user_dir/lexicon.txt`, if present (cached per file version)."""
    return _compile(stamped([SHIPPED_PATH, *([user_dir / USER_FILE] if user_dir else [])]))
