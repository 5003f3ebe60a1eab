"""The claim check's vocabulary (`checker/data/claims.txt`, plus a `claims.txt` in the user's
word-list folder when the caller names one): work verbs, genre boilerplate, vague words and
meta-text, each compiled into one pattern. Reloaded only when a file changes, like the lexicon."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from drafting.checker.lexicon import DATA_DIR, LexiconError, _trie_regex, stamped, word_lines

SHIPPED_PATH = DATA_DIR / "claims.txt"
USER_FILE = "claims.txt"
WORK, GENRE, VAGUE, META = "work", "genre", "vague", "meta"
CATEGORIES = (WORK, GENRE, VAGUE, META)


@dataclass(frozen=True, eq=False)  # hashed by identity: one object per file version
class Vocabulary:
    work: re.Pattern[str] | None
    free: re.Pattern[str] | None  # genre and vague words: left out when content is compared
    meta: re.Pattern[str] | None


def parse_lines(lines: list[str], source: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, word, category in word_lines(lines, source):
        if category not in CATEGORIES:
            raise LexiconError(f"{source} 第 {number} 行的类别 {category!r} 无效（应为 {'、'.join(CATEGORIES)} 之一）")
        entries[word] = category
    return entries


def _pattern(words: list[str]) -> re.Pattern[str] | None:
    """One trie-shaped pattern (fast to scan; the longest entry at a position wins)."""
    return re.compile(_trie_regex(words), re.IGNORECASE) if words else None


@lru_cache(maxsize=4)
def _compile(files: tuple[tuple[str, float], ...]) -> Vocabulary:
    entries: dict[str, str] = {}
    for path, _mtime in files:
        entries.update(parse_lines(Path(path).read_text(encoding="utf-8").splitlines(), path))

    def words(*categories: str) -> list[str]:
        return [w for w, c in entries.items() if c in categories]

    return Vocabulary(work=_pattern(words(WORK)), free=_pattern(words(GENRE, VAGUE)), meta=_pattern(words(META)))


def load_vocabulary(user_dir: Path | None = None) -> Vocabulary:
    """The shipped vocabulary plus `user_dir/claims.txt`, if present (cached per file version)."""
    return _compile(stamped([SHIPPED_PATH, *([user_dir / USER_FILE] if user_dir else [])]))
