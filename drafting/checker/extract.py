"""Step 1 — extraction: every numeric expression in a text, with character offsets.

The text is first mapped character by character (full-width digits, ％/﹪, （）…) so that
offsets stay those of the original. Placeholders and heading/list numbers are found first and
mask their characters; then each numeral core (Arabic, Chinese, 百分之…) is extended left
(hedges, 第/前) and right (万/亿, hedges, measure word, date parts, ranges). `classify` then
settles each candidate's class against the allow-list.
"""
from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache

from drafting.checker import classify
from drafting.checker.lexicon import Lexicon, load_lexicon
from drafting.checker.model import PLACEHOLDER, STRUCTURE, Candidate, Figure
from drafting.checker.normalize import (
    APPROX_PAIRS,
    CHAR_MAP,
    CN_DIGITS,
    DURATION_UNITS,
    HEDGES,
    SCALE_WORDS,
    UNIT_CLASSES,
    cn_to_decimal,
    expand_year,
    to_decimal,
)
from drafting.headings import CN_ORDINALS

_AR = r"\d+(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"
_CN_DIGIT_CHARS = "〇零一二两三四五六七八九"
_KILO = "千(?![瓦米克])"  # 千 of 千瓦时/千米/千克 belongs to the unit
_CN = rf"(?:[{_CN_DIGIT_CHARS}十百万亿]|{_KILO})+(?:点[{_CN_DIGIT_CHARS}]+)?"

_CORE_RE = re.compile(rf"(?P<pct>百分之)?(?:(?P<ar>{_AR})|(?P<cn>{_CN}))")
_UNIT_ALT = "|".join(re.escape(u) for u in sorted([*UNIT_CLASSES, "个多月"], key=len, reverse=True))
_TAIL_RE = re.compile(rf"(?P<h1>多|余|几)?(?P<scale>万亿|亿|万|{_KILO}|百)?(?P<h2>多|余)?(?: ?(?P<unit>{_UNIT_ALT}))?")
_POST_HEDGE_RE = re.compile(r"左右|以上|以下|上下|多|余(?!额)")
_FRACTION_RE = re.compile(rf"分之(?:(?P<ar>{_AR})|(?P<cn>{_CN}))")
_RATIO_RE = re.compile(r":(\d+(?:\.\d+)?)(?![\d:])")
_DAY_RE = re.compile(rf"(?:(\d{{1,2}})|([{CN_ORDINALS}]{{1,3}}))[日号]")
_MONTH_PART_RE = re.compile(r"上旬|中旬|下旬|初|底|末")
_YEAR_PART_RE = re.compile(r"初|底|末|中")
_SESSION_RE = re.compile(rf"第?(?:(\d{{1,3}})|([{CN_ORDINALS}]{{1,3}}))([次中])")
_RANGE_SEP_RE = re.compile(r" ?(?:-|—|–|~|至|到) ?")
_FIRST_RE = re.compile(r"首(届|批|次|期|家|个|位)")

# Hedges and ordinal markers written before a numeral (longest first).
_PREFIXES = ("将近", "接近", "大约", "超过", "不少于", "不低于", "不到", "不足", "约", "近", "超", "逾", "上", "数", "几", "第", "前")
_PREFIX_LAST_CHARS = frozenset(p[-1] for p in _PREFIXES)
# Characters that make a preceding 约/近/数 part of another word (签约, 附近, 人数).
_NOT_PREFIX_AFTER = {"约": "签履节制公特预邀合契缔相", "近": "最附亲就临贴靠", "数": "人总次件户个基分岁天倍多少半无全"}
_TOP_UNITS = frozenset({"名", "位", "强", "季度", "个季度", "个月"})
_MONTH_PART_CANON = {"末": "底"}

_PLACEHOLDER_RE = re.compile(
    r"""
      (?<![A-Za-z])[0-9]*x[0-9x]*(?:[.。][0-9x]*x[0-9x]*)?(?:万元|亿元|万|亿)?(?![A-Za-z])  # 20xx xx 2x14 x。xx万元
    | [0-9]*\*{2,}[0-9]* | [0-9]+\*+[0-9]* | \*+[0-9]+                                    # ** 201* **000
    | [0-9〇零一二]*_+[0-9]*                                                             # __ 二0__
    | ~(?=年)                                                                            # ~年
    | (?<![A-Za-z])ZZ(?![A-Za-z])
    | “\s*” | ""                                                                         # emptied quotation
    | (?<![0-9〇零一二两三四五六七八九十百千万亿几数余多上x*_])万元                          # 慰问金万元 (figure deleted)
    | (?<=\d月)日                                                                        # 4月日 (day deleted)
    | (?<=(?:举办|开展|组织|召开|举行|培训|参加|慰问|走访|发放)了)[次场期批名户](?![为间])         # 举办了次 (count deleted)
    """,
    re.X,
)
# Heading and list numbers: only at the start of a line or after a sentence/clause mark.
_HEADING_RE = re.compile(
    rf"""(?:^|(?<=[:;。!?]))[ \t]*(?P<s>
        \([{CN_ORDINALS}]{{1,3}}\)[、.]?
      | [{CN_ORDINALS}]{{1,3}}[、.]
      | \(\d{{1,2}}\)[、.]?
      | \d{{1,2}}(?:、|\)|\.(?!\d)|\ 、)
      | 其[{CN_ORDINALS}]
    )""",
    re.M | re.X,
)
# Inline enumerators: 一是/二是 anywhere; 第一、/第二, at the start of a sentence or clause
# (名列第一, is a rank).
_ENUM_RE = re.compile(rf"(?<![{CN_ORDINALS}统唯同第万])[{CN_ORDINALS}]{{1,2}}是(?![否非])|(?:^|(?<=[:;。!?,\s]))第[{CN_ORDINALS}]{{1,3}}[、,]", re.M)


def extract(text: str) -> list[Figure]:
    """Every numeric expression in `text`, in order, with its class, value, unit and hedge."""
    return list(extract_with(text, load_lexicon()))


def extract_with(text: str, lexicon: Lexicon) -> tuple[Figure, ...]:
    """`extract` with an already loaded allow-list (cached per text and allow-list version)."""
    return _extract_cached(text, lexicon)


def clear_cache() -> None:
    """Forget cached extractions (benchmarks time the cold path)."""
    _extract_cached.cache_clear()


@lru_cache(maxsize=1024)  # bullets (joined) and drafts seen again in a repair loop
def _extract_cached(text: str, lexicon: Lexicon) -> tuple[Figure, ...]:
    t = text.translate(CHAR_MAP)
    taken = bytearray(len(t))
    figures: list[Figure] = []
    for m in _PLACEHOLDER_RE.finditer(t):
        figures.append(Figure(text[m.start():m.end()], m.start(), m.end(), PLACEHOLDER, "placeholder"))
        taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    for regex, group in ((_HEADING_RE, "s"), (_ENUM_RE, 0)):
        for m in regex.finditer(t):
            s, e = m.span(group)
            if not any(taken[s:e]):
                figures.append(Figure(text[s:e], s, e, STRUCTURE, "structure"))
                taken[s:e] = b"\x01" * (e - s)
    candidates = _candidates(t, taken)
    figures.extend(classify.classify(text, t, candidates, taken, lexicon))
    figures.sort(key=lambda f: f.start)
    return tuple(figures)


def _candidates(t: str, taken: bytearray) -> list[Candidate]:
    found: list[Candidate] = []
    pos = 0
    for m in _CORE_RE.finditer(t):
        if m.start() < pos or taken[m.start()]:
            continue
        c = _parse(t, m, pos)
        if c is None:
            continue
        c = _extend_range(t, c)
        if any(taken[c.start:c.end]):
            continue
        found.append(c)
        pos = c.end
    for m in _FIRST_RE.finditer(t):
        s, e = m.span()
        if taken[s] or any(f.start < e and s < f.end for f in found):
            continue
        unit = m.group(1)
        found.append(Candidate(s, e, s, s + 1, "ordinal", Decimal(1), unit=unit, unit_text=unit,
                               key=("ord", "第", unit, Decimal(1)), prefix="首", chinese=True))
    found.sort(key=lambda c: c.start)
    _inherit_list_units(t, found)
    return [c for c in found if not (c.kind == "bare" and c.chinese)]


def _read_prefix(t: str, start: int, floor: int) -> str:
    if start == 0 or t[start - 1] not in _PREFIX_LAST_CHARS:
        return ""
    for p in _PREFIXES:
        s = start - len(p)
        if s >= floor and t.startswith(p, s):
            blockers = _NOT_PREFIX_AFTER.get(p)
            if blockers and s > 0 and t[s - 1] in blockers:
                return ""
            return p
    return ""


def _parse(t: str, m: re.Match[str], floor: int) -> Candidate | None:
    ar, cn, pct = m.group("ar"), m.group("cn"), m.group("pct")
    core_s, core_e = (m.span("ar") if ar else m.span("cn"))
    if ar and _is_code_start(t, core_s):
        return Candidate(core_s, core_e, core_s, core_e, "code", to_decimal(ar))
    prefix = "" if pct else _read_prefix(t, m.start(), floor)
    if prefix in ("上", "数", "几") and not (cn and cn[0] in "十百千万亿"):
        prefix = ""  # 上百, 数十, 几千 only
    c = Candidate(m.start() - len(prefix), core_e, core_s, core_e, "quantity", chinese=cn is not None, prefix=prefix)
    if prefix in HEDGES:
        c.hedge = prefix
    pair = APPROX_PAIRS.get(cn) if cn else None
    value: Decimal | None
    if ar:
        value = to_decimal(ar)
    elif pair:
        value = Decimal(pair[0])
    else:
        value = cn_to_decimal(cn)
        if value is None:
            return _unreadable(t, c)
    digit_seq = bool(cn) and len(cn) > 1 and all(ch in CN_DIGITS for ch in cn) and not pair
    if pct:
        return _finish_percent(t, c, value)
    if frac := _FRACTION_RE.match(t, core_e):
        num = to_decimal(frac.group("ar")) if frac.group("ar") else cn_to_decimal(frac.group("cn"))
        if num is None:
            return None
        c.end, c.kind, c.value, c.value2 = frac.end(), "fraction", num, value
        c.key = ("frac", num, value)
        return c
    if ar and (ratio := _RATIO_RE.match(t, core_e)):
        second = to_decimal(ratio.group(1))
        c.end, c.kind, c.value, c.value2, c.key = ratio.end(), "ratio", value, second, ("ratio", value, second)
        return c
    tail = _TAIL_RE.match(t, core_e)
    assert tail is not None  # every part of the pattern is optional: it always matches
    h1, scale_word, h2, unit = tail.group("h1", "scale", "h2", "unit")
    if cn and cn[0] in "万亿" and not (c.hedge or prefix in ("第", "前") or h1 in ("多", "余") or (len(cn) > 1 and unit)):
        return None  # 万元 with no figure before it is a deleted figure; 万亿元 and 万余人 are figures
    if cn and cn[0] in "百千" and not (unit or c.hedge or prefix in ("第", "前") or h1 in ("多", "余")):
        return None  # 百姓, 千万 (adverb); 百部, 千名, 百余人 are figures
    if unit == "个多月":
        unit, h2 = "个月", h2 or "多"
    c.end = tail.end()
    if h1 == "几":
        c.hedge = c.hedge or "几"
    elif h1 or h2:
        c.hedge = c.hedge or h1 or h2
    scale = SCALE_WORDS[scale_word] if scale_word else 1
    if cn and not scale_word:
        scale = max((SCALE_WORDS[ch] for ch in cn if ch in "万亿"), default=1)
        value_scaled = value
    else:
        value_scaled = value * scale
    if digit_seq:  # 二〇二三年, 〇八年; 五一 and 三八 are no numbers
        year = expand_year(int(value), len(cn)) if unit in ("年", "年度") else None
        return _finish_year(t, c, year, unit) if year else None
    if unit is None:
        if ar and _is_letter(t, c.end):
            return Candidate(core_s, core_e, core_s, core_e, "code", value)
        c.end = core_e if not (h1 or h2 or scale_word) else c.end
        c.value, c.scale = value_scaled, scale
        if prefix == "第":
            c.kind, c.key = "ordinal", ("ord", "第", "", value)
            return c
        if prefix == "前":
            c.start, c.prefix = core_s, ""
        if (post := _POST_HEDGE_RE.match(t, c.end)) and post.group() not in ("多", "余"):
            c.end, c.hedge = post.end(), c.hedge or post.group()  # 1145万左右
        c.kind, c.key = "bare", ("q", "", value_scaled)
        return c
    c.unit_text, c.unit, c.value, c.scale = unit, UNIT_CLASSES[unit], value_scaled, scale
    if pair:
        lo, hi = (Decimal(v) * scale for v in pair)
        c.kind, c.value, c.value2 = "range", lo, hi
        c.key = ("range", ("q", c.unit, lo), ("q", c.unit, hi))
        return c
    if prefix == "前" and unit not in _TOP_UNITS:
        c.start, c.prefix = core_s, ""
    if unit in ("年", "年度") and scale == 1 and not c.hedge and (year := _year_value(ar, value)):
        return _finish_year(t, c, year, unit)
    if unit == "月" and scale == 1 and not c.hedge and value == value.to_integral_value() and 1 <= value <= 12:
        return _finish_month(t, c, value)
    if unit == "日" and scale == 1 and not c.prefix and value == value.to_integral_value() and 1 <= value <= 31:
        c.kind, c.key = "day", ("day", value)
        return c
    if unit == "届" and (session := _SESSION_RE.match(t, c.end)):
        session_no = to_decimal(session.group(1)) if session.group(1) else cn_to_decimal(session.group(2))
        if session_no is not None:
            c.end, c.kind, c.value2 = session.end(), "session", session_no
            c.key = ("session", value, session_no, session.group(3))
            return c
    if unit in ("等奖", "等功"):
        c.kind, c.key = "prize", ("prize", unit, value)
        return c
    if prefix in ("第", "前") and (prefix == "第" or unit in _TOP_UNITS):
        canon = "季度" if unit == "个季度" else unit
        c.kind, c.key = "ordinal", ("ord", prefix, canon, value)
        return c
    if post := _POST_HEDGE_RE.match(t, c.end):
        word = post.group()
        if word not in ("多", "余") or unit in DURATION_UNITS:
            c.end, c.hedge = post.end(), c.hedge or word
    c.key = ("q", c.unit, value_scaled)
    return c


def _unreadable(t: str, c: Candidate) -> Candidate | None:
    """A malformed Chinese numeral with a measure word (一万八千万元) is kept, to be matched verbatim."""
    tail = _TAIL_RE.match(t, c.core_end)
    assert tail is not None  # every part of the pattern is optional: it always matches
    if not tail.group("unit") or tail.group("unit") in ("年", "年度"):
        return None
    c.end, c.unit_text, c.unit = tail.end(), tail.group("unit"), UNIT_CLASSES[tail.group("unit")]
    c.key = ("text", t[c.core_start:c.end])
    return c


def _finish_percent(t: str, c: Candidate, value: Decimal) -> Candidate:
    c.unit, c.unit_text, c.value = "percent", "%", value
    if (post := _POST_HEDGE_RE.match(t, c.end)) and post.group() not in ("多", "余"):
        c.end, c.hedge = post.end(), c.hedge or post.group()
    c.key = ("q", "percent", value)
    return c


def _year_value(ar: str | None, value: Decimal) -> int | None:
    """The year an Arabic number before 年 stands for (2019年, 08年, 79年); None for a duration."""
    if not ar or value != value.to_integral_value():
        return None  # 二十年, 八年: durations (Chinese digit sequences are read as years earlier)
    if len(ar) == 2 and not (ar.startswith("0") or value >= 60):
        return None  # 12年 is a duration
    return expand_year(int(value), len(ar))


def _finish_year(t: str, c: Candidate, year: int, unit: str) -> Candidate:
    if part := _YEAR_PART_RE.match(t, c.end):
        c.end = part.end()
    c.kind, c.value, c.unit, c.unit_text, c.scale = "year", Decimal(year), "year", unit, 1
    c.key = ("year", year)
    return c


def _finish_month(t: str, c: Candidate, month: Decimal) -> Candidate:
    c.kind, c.unit, c.value = "month", "month", month
    c.key = ("month", month)
    if t.startswith("份", c.end):
        c.end += 1
    if day := _DAY_RE.match(t, c.end):
        d = to_decimal(day.group(1)) if day.group(1) else cn_to_decimal(day.group(2))
        if d is not None and 1 <= d <= 31:
            c.end, c.kind, c.value2, c.key = day.end(), "date", d, ("date", month, d)
            return c
    if part := _MONTH_PART_RE.match(t, c.end):
        word = _MONTH_PART_CANON.get(part.group(), part.group())
        c.end, c.kind, c.key = part.end(), "month_part", ("mpart", month, word)
    return c


def _with_unit_of(c: Candidate, model: Candidate) -> Candidate | None:
    """A unitless number that takes the unit of the figure after it (3-5家, 二、三等奖, 1-6月)."""
    value = c.value
    assert value is not None
    if model.kind in ("month", "month_part", "date"):
        if value != value.to_integral_value() or not 1 <= value <= 12:
            return None
        return replace(c, kind="month", unit="month", unit_text="月", value=value, key=("month", value))
    if model.kind == "year":
        year = expand_year(int(value), len(str(int(value)))) if value == value.to_integral_value() else None
        if year is None:
            return None
        return replace(c, kind="year", unit="year", unit_text=model.unit_text, value=Decimal(year), key=("year", year))
    if model.kind == "prize":
        return replace(c, kind="prize", unit=model.unit, unit_text=model.unit_text, key=("prize", model.unit, value))
    if model.kind in ("quantity", "range") and model.unit:
        scaled = value * model.scale if c.scale == 1 else value
        return replace(c, kind="quantity", unit=model.unit, unit_text=model.unit_text, value=scaled,
                       scale=max(c.scale, model.scale), key=("q", model.unit, scaled))
    return None


def _extend_range(t: str, first: Candidate) -> Candidate:
    if first.kind not in ("bare", "quantity", "month", "month_part", "date", "year") or first.prefix in ("第", "前"):
        return first
    sep = _RANGE_SEP_RE.match(t, first.end)
    if not sep:
        return first
    m = _CORE_RE.match(t, sep.end())
    if not m or m.group("pct"):
        return first
    second = _parse(t, m, sep.end())
    if second is None or second.kind in ("bare", "code", "ordinal", "ratio", "fraction", "session", "range"):
        return first
    if first.kind == "bare":
        lower = _with_unit_of(first, second)
    elif first.kind == "date" and second.kind == "day":
        lower, second = first, replace(second, kind="date", key=("date", first.value, second.value))
    elif (first.kind in ("month", "month_part") and second.kind in ("month", "month_part")) or (first.kind == second.kind and first.unit == second.unit):
        lower = first
    else:
        lower = None
    if lower is None:
        return first
    return Candidate(
        first.start, second.end, first.core_start, second.core_end, "range",
        value=lower.value, value2=second.value, unit=second.unit, unit_text=second.unit_text,
        hedge=first.hedge or second.hedge, scale=second.scale, key=("range", lower.key, second.key),
        chinese=first.chinese and second.chinese,
    )


def _inherit_list_units(t: str, found: list[Candidate]) -> None:
    """二、三等奖 and 3、5、8家: a bare number before 、 takes the unit of the next figure."""
    for i in range(len(found) - 2, -1, -1):
        c, nxt = found[i], found[i + 1]
        if (c.kind == "bare" and nxt.start == c.end + 1 and t[c.end] == "、"
                and nxt.kind in ("quantity", "prize", "month", "year")
                and (adopted := _with_unit_of(c, nxt)) is not None):
            found[i] = adopted


def _is_letter(t: str, i: int) -> bool:
    return 0 <= i < len(t) and t[i].isascii() and t[i].isalpha()


def _is_code_start(t: str, core_s: int) -> bool:
    """An Arabic number glued to Latin letters (5G, iso9000, hfc-134a) is a code, not a figure."""
    return _is_letter(t, core_s - 1) or (core_s >= 2 and t[core_s - 1] == "-" and _is_letter(t, core_s - 2))

