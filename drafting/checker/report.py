"""The check report: what the pipeline, the page, the HTTP API and the CLI show."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drafting.checker.claims import Claim
from drafting.checker.model import FACT, LEXICON, PLACEHOLDER, SOFT, STRUCTURE, Figure

_CLASS_ZH = {FACT: "事实数字", STRUCTURE: "序号/期间", LEXICON: "固定用语", SOFT: "泛指/提示", PLACEHOLDER: "占位符"}
_SHOWN = 20  # items listed per section in the Chinese summary


@dataclass(frozen=True, slots=True)
class Finding:
    """A draft figure that is unsupported (error) or doubtful (warning)."""

    text: str
    start: int
    end: int
    reason: str
    cls: str
    source: str = ""  # the input figure it was compared with, if any
    fact: str = ""  # the bullet that input figure came from
    misattributed: bool = False  # the value is the input's, the fact it is stated on another bullet's

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "start": self.start, "end": self.end, "reason": self.reason, "class": self.cls}
        if self.source:
            out["source"] = self.source
            out["fact"] = self.fact
        if self.misattributed:
            out["misattributed"] = True
        return out


@dataclass(frozen=True, slots=True)
class Missing:
    """An input figure that the draft does not state; `at` is where it stands in `fact` (-1 when
    unknown), which tells the two 85% of 决算汇总率85%，工会经费申报率85% apart."""

    text: str
    fact: str
    at: int = -1

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "fact": self.fact}


@dataclass
class CheckReport:
    figures: list[Figure] = field(default_factory=list)
    unsupported: list[Finding] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    work_clauses: int = 0  # clauses stating work that the claim check held to the input
    # Effects and evaluations no bullet holds (确保了资金的合理使用和透明度): not a problem of the
    # draft's facts, so neither in `ok` nor in the stable JSON; the repair strikes them.
    effects: list[Claim] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no figure is unsupported or misattributed, no placeholder is left and no
        clause states work the input does not hold."""
        return not self.unsupported and not self.claims

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "figures": [f.to_dict() for f in self.figures],
            "unsupported": [u.to_dict() for u in self.unsupported],
            "claims": [c.to_dict() for c in self.claims],
            "work_clauses": self.work_clauses,
            "missing": [m.to_dict() for m in self.missing],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def summary_zh(self) -> str:
        counts: dict[str, int] = {}
        for f in self.figures:
            counts[f.cls] = counts.get(f.cls, 0) + 1
        parts = "，".join(f"{_CLASS_ZH[c]} {n} 处" for c, n in counts.items() if n) or "无"
        lines = [
            "数字核对：通过" if not self.unsupported
            else f"数字核对：未通过（{len(self.unsupported)} 处数字在要点中找不到依据，或写在了别的事上）",
            "表述核对：通过" if not self.claims else f"表述核对：未通过（{len(self.claims)} 处表述在要点中找不到依据）",
            f"草稿中的数字表达共 {len(self.figures)} 处：{parts}。",
        ]
        sections = (
            ("不符或无依据", self.unsupported, lambda u: f"“{u.text}”（第 {u.start + 1} 字起）：{u.reason}"),
            ("无依据的表述", self.claims, lambda c: f"“{_clip(c.text)}”（第 {c.start + 1} 字起）：{c.reason}"),
            ("提示", self.warnings, lambda w: f"“{w.text}”（第 {w.start + 1} 字起）：{w.reason}"),
            ("要点中有、草稿未写到的数字", self.missing, lambda m: f"“{m.text}”（要点：{_clip(m.fact)}）"),
        )
        for title, items, fmt in sections:
            if not items:
                continue
            lines.append(f"{title}（{len(items)} 处）：")
            lines += [f"  {i}. {fmt(item)}" for i, item in enumerate(items[:_SHOWN], 1)]
            if len(items) > _SHOWN:
                lines.append(f"  ……另有 {len(items) - _SHOWN} 处未列出")
        return "\n".join(lines)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
