"""Step 3 — matching: is a draft figure supported by the input (the bullets plus request fields)?

The input is indexed by each figure's key (kind, unit class, exact value). A draft figure is
supported when some input figure has the same key and a compatible hedge. Otherwise a
diagnosis explains, in Chinese, what differs: the unit, the scale (万/亿), the hedge, the
value, or that the figure looks derived (a percentage or total computed from input figures).
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate

from drafting.checker.extract import extract_with
from drafting.checker.lexicon import Lexicon
from drafting.checker.model import FACT, PLACEHOLDER, SOFT, Figure, Key
from drafting.checker.normalize import APPROX, HEDGES, PEOPLE, PERCENT, PERSON_TIMES, POINTS, render

OK, WARN, ERROR = "ok", "warning", "error"
_CONTEXT = 8
_LAST_DAYS = ((31,), (28, 29), (31,), (30,), (31,), (30,), (31,), (31,), (30,), (31,), (30,), (31,))
_SAME_PLACE = 2  # shared context bigrams: the same figure, written with another unit
# Above this many input figures, `closest` scores only the bigrams found around at most
# _INFORMATIVE of them: a bigram around every figure says nothing about which one is meant, and
# scoring every pair made a 50,000-character draft against 40 long bullets take 48 s.
_LONG_LIST = 64
_INFORMATIVE = 32
_KIND_ZH = {
    "year": "年份", "month": "日期", "date": "日期", "day": "日期", "month_part": "日期",
    "ordinal": "名次/届次", "prize": "奖项等级", "session": "届次", "range": "数值范围",
    "ratio": "比例", "fraction": "比例",
}
_UNREADABLE = "数字写法无法识别，要点中也没有同样的写法"
# A vague quantity (多次, 一系列) the bullets never use: the repair strikes it, the eval counts it.
VAGUE_REASON = "泛指数量词，要点中没有，请核对是否属实"


@dataclass(frozen=True, slots=True)
class Source:
    """An input figure and the bullet (or request field) it was found in.

    The figure's offsets are into all bullets joined by line breaks; `offset` is where `fact`
    starts there.
    """

    figure: Figure
    fact: str
    from_field: bool
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    status: str
    reason: str = ""
    source: Source | None = None


def implied_keys(f: Figure) -> list[Key]:
    """The keys a figure supports: its own, plus the month of a date (5月5日 supports 5月)."""
    if f.key is None:
        return []
    keys = [f.key]
    if f.kind == "date":
        keys += [("month", f.value), ("day", f.value2)]
    elif f.kind == "month_part":
        keys.append(("month", f.value))
    return keys


def hedge_class(hedge: str) -> str:
    return HEDGES.get(hedge, "") if hedge else ""


class InputIndex:
    """The figures of the bullets and the request fields, indexed for matching."""

    def __init__(self, facts: Sequence[str], fields: Sequence[str], lexicon: Lexicon) -> None:
        self.by_key: dict[Key, list[Source]] = defaultdict(list)
        self.by_value: dict[Decimal, list[Source]] = defaultdict(list)
        self.by_unit: dict[str, list[Source]] = defaultdict(list)
        self.by_family: dict[str, list[Source]] = defaultdict(list)
        self.placeholders: set[str] = set()
        self.fact_sources: list[Source] = []
        self.joined = _joined(facts)  # the bullets as one text: the offsets of fact sources point here
        self._contexts: dict[int, set[str]] = {}  # id(source) → the bigrams around it
        self._neighbours: dict[int, _Neighbours] = {}  # id(one of this index's lists) → its bigram index
        self._quantities: dict[Decimal, list[Source]] = {}
        for texts, from_field in ((facts, False), (fields, True)):
            for text, offset, f in _figures_by_line(texts, lexicon):
                self._add(Source(f, text, from_field, offset))

    def _add(self, src: Source) -> None:
        f = src.figure
        if f.cls == PLACEHOLDER:
            self.placeholders.add(f.text.lower())
            return
        if f.key is None or f.cls not in (FACT, SOFT):
            return
        for key in implied_keys(f):
            self.by_key[key].append(src)
        self.by_family[f.key[0]].append(src)
        if f.key[0] == "q" and f.value is not None:
            self.by_value[f.value].append(src)
            self.by_unit[f.unit].append(src)
        elif f.kind == "year" and f.value is not None:
            self.by_value[f.value].append(src)
        if f.cls == FACT and not src.from_field:
            self.fact_sources.append(src)

    def quantities(self, value: Decimal) -> list[Source]:
        """The input quantities of this value, whatever their unit (one list per value)."""
        found = self._quantities.get(value)
        if found is None:
            found = self._quantities[value] = [s for s in self.by_value.get(value, ())
                                               if s.figure.key and s.figure.key[0] == "q"]
        return found

    def context(self, s: Source) -> set[str]:
        """The character bigrams around an input figure (computed once)."""
        found = self._contexts.get(id(s))
        if found is None:
            found = self._contexts[id(s)] = _context(s.fact, s.figure.start - s.offset, s.figure.end - s.offset)
        return found

    def shared_context(self, d: Figure, draft: str, s: Source) -> int:
        """How many character bigrams the words around a draft figure and an input figure share."""
        return len(_context(draft, d.start, d.end) & self.context(s))

    def closest(self, d: Figure, draft: str, sources: list[Source]) -> Source:
        """The input figure whose surrounding words best resemble the draft figure's; among
        equals, the nearest value, then the first listed.

        A long `sources` must be one of this index's own lists: its bigram index is kept (and
        holds the list, so its id is not reused).
        """
        mine = _context(draft, d.start, d.end)
        if len(sources) <= _LONG_LIST:
            return max(sources, key=lambda s: (len(mine & self.context(s)), -_distance(d, s)))
        neighbours = self._neighbours.get(id(sources))
        if neighbours is None:
            neighbours = self._neighbours[id(sources)] = _Neighbours(sources, [self.context(s) for s in sources])
        return neighbours.closest(d, mine)


def _joined(texts: Sequence[str]) -> str:
    return "\n".join(t.replace("\n", " ") for t in texts)


def _figures_by_line(texts: Sequence[str], lexicon: Lexicon) -> Iterator[tuple[str, int, Figure]]:
    """Each text's figures, with the offset of that text in the joined lines.

    The texts are extracted in one pass, joined by line breaks (no figure spans a line break),
    which is several times faster than one call per bullet.
    """
    lines = [t.replace("\n", " ") for t in texts]
    starts = list(accumulate((len(line) + 1 for line in lines), initial=0))
    for f in extract_with(_joined(texts), lexicon):
        i = bisect_right(starts, f.start) - 1
        yield texts[i], starts[i], f


def judge(d: Figure, draft: str, index: InputIndex) -> Verdict:
    """The verdict on one draft figure of class FACT or SOFT."""
    if d.key is None:
        return Verdict(OK)
    if d.kind == "vague":
        if index.by_key.get(d.key):
            return Verdict(OK)
        return Verdict(WARN, VAGUE_REASON)
    verdict = _judge_fact(d, draft, index)
    if d.cls == SOFT and verdict.status == ERROR:
        what = "引号内的口号或名称含数字" if d.note == "quoted" else "“一/首”加量词"
        return Verdict(WARN, f"{what}，{verdict.reason}，请核对", verdict.source)
    return verdict


def _judge_fact(d: Figure, draft: str, index: InputIndex) -> Verdict:
    key = d.key
    assert key is not None  # judge() answers figures without a key
    sources = list(index.by_key.get(key, ()))
    if key[0] == "q" and d.value is not None:
        # A number written without its unit (辖区企业3463 / 3463家) matches only in the same place.
        sources += [s for s in index.by_value.get(d.value, ()) if (not d.unit or not s.figure.unit)
                    and s.figure.unit != d.unit and index.shared_context(d, draft, s) >= _SAME_PLACE]
    if sources:
        return _hedge_verdict(d, sources)
    if key[0] == "q" and d.value is not None:
        return _diagnose_quantity(d, d.value, draft, index)
    if month_end := _month_end(d, index):
        return Verdict(WARN, f"日期写法不同（月底与具体日期）：要点为“{month_end.figure.text}”", month_end)
    if key[0] == "text":
        return Verdict(ERROR, _UNREADABLE)
    family = index.by_family.get(key[0], [])
    what = _KIND_ZH.get(d.kind, "数字")
    if family:
        best = index.closest(d, draft, family)
        return Verdict(ERROR, f"{what}与要点不符：要点为“{best.figure.text}”", best)
    return Verdict(ERROR, f"要点中没有这个{what}")


def _is_month_end(month: Decimal | None, day: Decimal | None) -> bool:
    return month is not None and day is not None and 1 <= month <= 12 and day in _LAST_DAYS[int(month) - 1]


def _month_end(d: Figure, index: InputIndex) -> Source | None:
    """6月底 vs 6月30日: the same day written differently (policy: a warning, not a match)."""
    if d.kind == "date" and _is_month_end(d.value, d.value2):
        found = index.by_key.get(("mpart", d.value, "底"))
        return found[0] if found else None
    if d.kind == "month_part" and d.key is not None and d.key[2] == "底":
        dates = index.by_family.get("date", [])
        return next((s for s in dates if s.figure.value == d.value and _is_month_end(s.figure.value, s.figure.value2)), None)
    return None


def _hedge_verdict(d: Figure, sources: list[Source]) -> Verdict:
    mine = hedge_class(d.hedge)
    best: Verdict | None = None
    for s in sources:
        theirs = hedge_class(s.figure.hedge)
        if mine == theirs:
            return Verdict(OK, source=s)
        if not mine:
            v = Verdict(WARN, f"删去了约数词“{s.figure.hedge}”：要点为“{s.figure.text}”", s)
        elif not theirs and mine == APPROX:
            v = Verdict(WARN, f"添加了约数词“{d.hedge}”：要点为确数“{s.figure.text}”", s)
        else:
            v = Verdict(ERROR, f"约数词与要点不符：要点为“{s.figure.text}”", s)
        if best is None or (best.status == ERROR and v.status == WARN):
            best = v
    assert best is not None
    return best


def _diagnose_quantity(d: Figure, value: Decimal, draft: str, index: InputIndex) -> Verdict:
    other_units = index.quantities(value)
    if other_units:
        s = index.closest(d, draft, other_units)
        if index.shared_context(d, draft, s) >= _SAME_PLACE:
            if {d.unit, s.figure.unit} == {PEOPLE, PERSON_TIMES}:
                return Verdict(WARN, f"“人”与“人次”不同：要点为“{s.figure.text}”", s)
            return Verdict(ERROR, f"单位与要点不符：要点为“{s.figure.text}”", s)
    for factor in (Decimal(10**4), Decimal(10**8)):
        for scaled in (value * factor, value / factor):
            if hits := index.by_key.get(("q", d.unit, scaled)):
                return Verdict(ERROR, f"数量级（万/亿）与要点不符：要点为“{hits[0].figure.text}”", hits[0])
    if d.unit == PERCENT and (derivation := _derived_percent(value, index)):
        return Verdict(ERROR, f"要点中没有这个百分比，疑似由要点数字推算（{derivation}）")
    if d.unit and (derivation := _derived_total(value, index.by_unit.get(d.unit, []))):
        return Verdict(ERROR, f"要点中没有这个数，疑似由要点数字相加得到（{derivation}）")
    same_unit = index.by_unit.get(d.unit, []) if d.unit else []
    if same_unit:
        s = index.closest(d, draft, same_unit)
        return Verdict(ERROR, f"数值与要点不符：要点为“{s.figure.text}”", s)
    return Verdict(ERROR, "要点中没有这个数字")


def _derived_percent(p: Decimal, index: InputIndex) -> str:
    """'a÷b≈p%' when input figures a and b of one unit class give p, rounded to p's decimals."""
    half = Decimal(1).scaleb(int(p.as_tuple().exponent)) / 2
    for unit, sources in index.by_unit.items():
        if unit in ("", PERCENT, POINTS):
            continue
        values = sorted({v for s in sources if s.figure.kind == "quantity" and (v := s.figure.value) is not None and v > 0})
        for b in values:
            lo, hi = (p - half) * b / 100, (p + half) * b / 100
            for a in values[bisect_left(values, lo):bisect_right(values, hi)]:
                if a != b or p == 100:
                    return f"{render(a)}÷{render(b)}≈{render(p)}%"
    return ""


def _derived_total(total: Decimal, sources: Iterable[Source]) -> str:
    values = [s.figure.value for s in sources if s.figure.value is not None and s.figure.kind == "quantity"]
    if len(values) >= 2 and sum(values) == total:
        return "+".join(render(v) for v in values) + f"={render(total)}"
    seen: set[Decimal] = set()
    for v in values:
        if total - v in seen and total - v != 0:
            return f"{render(total - v)}+{render(v)}={render(total)}"
        seen.add(v)
    return ""


def _context(text: str, start: int, end: int) -> set[str]:
    """Character bigrams just before and after a figure."""
    before, after = text[max(0, start - _CONTEXT):start], text[end:end + _CONTEXT // 2]
    return {w[i:i + 2] for w in (before, after) for i in range(len(w) - 1)}


def _distance(d: Figure, s: Source) -> Decimal:
    return abs((s.figure.value or Decimal(0)) - (d.value or Decimal(0)))


class _Neighbours:
    """A long list of input figures indexed by the bigrams around them, so that finding the
    closest costs the informative bigrams' postings, not the whole list."""

    def __init__(self, sources: list[Source], contexts: list[set[str]]) -> None:
        self.sources = sources
        postings: dict[str, list[int]] = defaultdict(list)
        for i, context in enumerate(contexts):
            for gram in context:
                postings[gram].append(i)
        self.postings = {gram: ids for gram, ids in postings.items() if len(ids) <= _INFORMATIVE}
        self.order = sorted(range(len(sources)), key=lambda i: (sources[i].figure.value or Decimal(0), i))
        self.values = [sources[i].figure.value or Decimal(0) for i in self.order]

    def closest(self, d: Figure, context: set[str]) -> Source:
        counts: Counter[int] = Counter()
        for gram in context:
            counts.update(self.postings.get(gram, ()))
        if counts:
            best = max(counts.values())
            return self.sources[min((i for i, c in counts.items() if c == best),
                                    key=lambda i: (_distance(d, self.sources[i]), i))]
        value = d.value or Decimal(0)
        at = bisect_left(self.values, value)
        # the first listed of the nearest value below and of the nearest value at or above
        nearby = [self.order[bisect_left(self.values, self.values[j])] for j in (at - 1, at) if 0 <= j < len(self.values)]
        return self.sources[min(nearby, key=lambda i: (_distance(d, self.sources[i]), i))]


def draft_keys(figures: Iterable[Figure]) -> tuple[set[Key], set[Decimal]]:
    """Keys present in a draft, and the values of its unitless numbers (for `missing`)."""
    keys: set[Key] = set()
    bare_values: set[Decimal] = set()
    for f in figures:
        if f.cls in (FACT, SOFT):
            keys.update(implied_keys(f))
            if f.key and f.key[0] == "q" and not f.unit and f.value is not None:
                bare_values.add(f.value)
    return keys, bare_values


def unclaimed(sources: Sequence[Source], figures: Sequence[Figure], draft: str, index: InputIndex) -> list[Source]:
    """Of the input figures whose key the draft holds (`is_present`), those no draft figure is
    left to state: when fewer draft figures carry a key than bullets do (85% twice in the
    bullets, once in the draft), each draft figure goes to the bullet whose words around the
    figure it shares most, one to one, and the bullets left over are missing. One 85% does not
    state both 决算汇总率85% and 工会经费申报率85%."""
    groups: dict[Key, list[Source]] = defaultdict(list)
    for src in sources:
        if src.figure.key is not None:
            groups[src.figure.key].append(src)
    left: list[Source] = []
    for key, group in groups.items():
        stated = [d for d in figures if d.cls in (FACT, SOFT) and key in implied_keys(d)]
        if len(group) < 2 or not stated or len(stated) >= len(group):
            continue
        pairs = sorted(((index.shared_context(d, draft, s), -i, -j) for i, d in enumerate(stated)
                        for j, s in enumerate(group)), reverse=True)
        used_draft: set[int] = set()
        used_source: set[int] = set()
        for _, i, j in pairs:
            if -i not in used_draft and -j not in used_source:
                used_draft.add(-i)
                used_source.add(-j)
        left += [s for j, s in enumerate(group) if j not in used_source]
    return left


def is_present(src: Source, keys: set[Key], bare_values: set[Decimal]) -> bool:
    f = src.figure
    if f.key in keys:
        return True
    if f.key and f.key[0] == "q":
        return f.value in bare_values or (not f.unit and any(k[0] == "q" and k[2] == f.value for k in keys))
    return False
