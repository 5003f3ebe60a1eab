"""The enumerated headings of a 公文 summary, written down once.

Level 1 is 一、… (the assembler writes it, the layout parser finds it again in an edited draft,
the exports style it); level 2 is （一）…; summaries also number with 1、 or 1. inside a
section. The checker, the assembler and the exports read headings with these patterns, so a
draft is split the same way wherever it is read. A leaf: it imports nothing of the package.
"""
from __future__ import annotations

import re

CN_ORDINALS = "一二三四五六七八九十"
NUMERAL = f"[{CN_ORDINALS}]{{1,3}}"  # 一 … 九十九

LEVEL1 = re.compile(rf"^\s*({NUMERAL})、\s*(.*?)\s*$")  # groups: the numeral, the heading's words
LEVEL1_START = re.compile(rf"(?m)^\s*{NUMERAL}、")  # where a level-1 heading line starts
LEVEL2 = re.compile(rf"^\s*[（(]{NUMERAL}[)）]")
ANY_LEVEL = re.compile(rf"^\s*(?:{NUMERAL}[、.．]|[（(][{CN_ORDINALS}\d]{{1,3}}[)）]|\d{{1,2}}[、.．])")


def ordinal(i: int) -> str:
    """1 → 一, 11 → 十一, 20 → 二十 (enough for any outline)."""
    if i <= 10:
        return CN_ORDINALS[i - 1]
    tens, ones = divmod(i, 10)
    return ("" if tens == 1 else CN_ORDINALS[tens - 1]) + "十" + (CN_ORDINALS[ones - 1] if ones else "")
