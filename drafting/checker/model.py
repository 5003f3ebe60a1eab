"""The small value types shared by the checker's steps."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from drafting.checker.normalize import number_out

# Figure classes (policy §5.1).
FACT = "FACT"
STRUCTURE = "STRUCTURE"
LEXICON = "LEXICON"
SOFT = "SOFT"
PLACEHOLDER = "PLACEHOLDER"

Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """One numeric expression found in a text.

    `start`/`end` are character offsets into the text given to `extract`. `kind` says what the
    expression is (quantity, range, ratio, fraction, ordinal, session, year, month, date, day,
    month_part, placeholder, structure, period, lexicon, vague, code). `unit` is the unit class
    (people, bodies, money, percent, or the measure word itself); `unit_text` the word as
    written. `value` is exact (scale applied: 30万元 → 300000); ranges also have `value2`.
    `key` is what matching compares (None for classes that are never matched).
    """

    text: str
    start: int
    end: int
    cls: str
    kind: str
    value: Decimal | None = None
    value2: Decimal | None = None
    unit: str = ""
    unit_text: str = ""
    hedge: str = ""
    scale: int = 1
    key: Key | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "class": self.cls,
            "kind": self.kind,
            "value": number_out(self.value),
            "unit": self.unit,
            "hedge": self.hedge,
            "scale": self.scale,
        }
        if self.value2 is not None:
            out["value2"] = number_out(self.value2)
        if self.note:
            out["note"] = self.note
        return out


@dataclass(slots=True)
class Candidate:
    """A numeric expression before classification (mutable while it is being extended)."""

    start: int
    end: int
    core_start: int
    core_end: int
    kind: str
    value: Decimal | None = None
    value2: Decimal | None = None
    unit: str = ""
    unit_text: str = ""
    hedge: str = ""
    scale: int = 1
    key: Key | None = None
    chinese: bool = False
    prefix: str = ""
