"""Normalisation: numeral spans to exact values, measure words to unit classes, hedges to classes.

Everything here works on one short span at a time. `cn2an` is only used for Chinese numerals
that carry 万/亿 or 零 (the fast path below covers everything else) and is imported lazily,
because importing it costs about 0.2 s.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

# One-to-one character mapping, so offsets in the translated text equal offsets in the original.
CHAR_MAP = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        "％": "%",
        "﹪": "%",
        "．": ".",
        "：": ":",
        "（": "(",
        "）": ")",
        "，": ",",
        "；": ";",
        "！": "!",
        "？": "?",
        "＋": "+",
        "－": "-",
        "～": "~",
        "〜": "~",
        "Ｘ": "x",
        "ｘ": "x",
        "X": "x",
        "×": "x",
        "＊": "*",
        "＿": "_",
        "○": "〇",
        "　": " ",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)

CN_DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_SMALL_MULT = {"十": 10, "百": 100, "千": 1000}
_BIG_MULT = {"万": 10**4, "亿": 10**8}
SCALE_WORDS: dict[str, int] = {"百": 100, "千": 1000, "万": 10**4, "亿": 10**8, "万亿": 10**12}

# Colloquial two-digit approximations: 两三个 = 2–3, 三五家 = 3–5 (cn2an reads 两三 as 23).
APPROX_PAIRS: dict[str, tuple[int, int]] = {
    "一两": (1, 2), "两三": (2, 3), "二三": (2, 3), "三四": (3, 4), "四五": (4, 5),
    "五六": (5, 6), "六七": (6, 7), "七八": (7, 8), "八九": (8, 9), "三五": (3, 5),
}

# Hedge words and their classes. A figure's hedge class must be kept by a restatement.
MORE, APPROX, LESS, SEVERAL = "more", "approx", "less", "several"
HEDGES: dict[str, str] = {
    "多": MORE, "余": MORE, "以上": MORE, "超": MORE, "超过": MORE, "逾": MORE,
    "不少于": MORE, "不低于": MORE, "上": MORE,
    "约": APPROX, "大约": APPROX, "左右": APPROX, "上下": APPROX,
    "近": LESS, "将近": LESS, "接近": LESS, "不到": LESS, "不足": LESS, "以下": LESS,
    "几": SEVERAL, "数": SEVERAL,
}

# Measure words and units (text as written → unit class). Classes that the policy groups are
# named in English; every other measure word is its own class.
PEOPLE, PERSON_TIMES, BODIES, MONEY, EVENTS = "people", "person_times", "bodies", "money", "events"
PERCENT, POINTS = "percent", "points"
UNIT_CLASSES: dict[str, str] = {
    "人次": PERSON_TIMES,
    "人": PEOPLE, "名": PEOPLE, "位": PEOPLE, "口人": PEOPLE,
    "职工": PEOPLE, "会员": PEOPLE, "员工": PEOPLE, "农民工": PEOPLE,
    "家": BODIES, "个": BODIES, "户": BODIES, "所": BODIES,
    "元": MONEY, "块钱": MONEY,
    "次": EVENTS, "场": EVENTS, "期": EVENTS, "场次": EVENTS,
    "%": PERCENT, "个百分点": POINTS, "百分点": POINTS,
    "平方米": "m2", "平米": "m2", "㎡": "m2", "m2": "m2", "m²": "m2",
    "立方米": "m3", "m3": "m3", "m³": "m3",
    "公里": "km", "千米": "km", "km": "km",
    "公斤": "kg", "千克": "kg", "kg": "kg",
    "千瓦时": "kwh", "kw/h": "kwh", "kwh": "kwh", "度": "kwh",
}
# Measure words that are their own class.
for _w in ["美元", "份", "册", "本", "篇", "条", "项", "件", "台", "辆", "套", "张", "支", "队", "组", "班", "批", "届", "年", "年度", "个月", "月", "天", "日", "号", "小时", "分钟", "周", "周年", "岁", "亩", "米", "吨", "斤", "倍", "部", "座", "栋", "处", "站", "间", "块", "幅", "面", "盒", "袋", "箱", "桶", "双", "株", "棵", "只", "头", "课时", "学时", "节", "堂", "分", "宗", "起", "例", "笔", "单", "种", "类", "强", "等奖", "等功", "季度", "个季度", "轮", "代表队", "床", "幢", "艘", "架", "趟", "遍", "回", "首", "餐", "桌", "字", "克", "升", "公顷", "学期", "讲"]:
    UNIT_CLASSES.setdefault(_w, _w)

# Units after which a trailing 多/余 is a hedge (八年多, 两个多月); after others it starts a new word.
DURATION_UNITS = frozenset({"年", "个月", "天", "小时", "分钟", "周"})


def to_decimal(text: str) -> Decimal:
    """An Arabic numeral (ASCII digits, optional thousands commas and decimal point)."""
    return Decimal(text.replace(",", ""))


@lru_cache(maxsize=4096)
def cn_to_decimal(span: str) -> Decimal | None:
    """A Chinese numeral span (一千三百, 两百, 二〇二三, 五十三点三, 三十万) to its value.

    Returns None for strings that are not one well-formed number. Digit sequences
    (二〇二三) are read digit by digit; callers decide whether such a reading makes sense
    (a year does, 五一 does not).
    """
    if not span:
        return None
    if "点" in span:
        head, _, tail = span.partition("点")
        if not tail or any(c not in CN_DIGITS for c in tail):
            return None
        whole = cn_to_decimal(head) if head else Decimal(0)
        if whole is None:
            return None
        return whole + Decimal("0." + "".join(str(CN_DIGITS[c]) for c in tail))
    if all(c in CN_DIGITS for c in span):
        return Decimal("".join(str(CN_DIGITS[c]) for c in span))
    if span[0] in _SMALL_MULT or span[0] in _BIG_MULT:
        span = "一" + span
    if any(c in _BIG_MULT or c in "零〇" for c in span):
        return _cn2an(span) or _cn2an(_with_zero_after_yi(span))
    return _small_positional(span)


def _with_zero_after_yi(span: str) -> str:
    """cn2an rejects 亿 followed by a group below 万 without 零 (九千亿五千一百, 一亿五); spell it out."""
    head, yi, tail = span.rpartition("亿")
    if not yi or not tail or "万" in tail or tail[0] in "零〇":
        return span
    if len(tail) == 1:
        return f"{head}亿{tail}千万"  # 一亿五 = 1.5 亿, like 三千四 = 3400
    return f"{head}亿零{tail}"


def _small_positional(span: str) -> Decimal | None:
    """一千三百, 三千四 (colloquial 3400), 十五, 两百: positional numerals below 10 000."""
    total = 0
    digit: int | None = None
    last_mult = 10**5
    for c in span:
        if c in CN_DIGITS:
            if digit is not None:
                return None
            digit = CN_DIGITS[c]
        else:
            mult = _SMALL_MULT.get(c)
            if mult is None or mult >= last_mult:
                return None
            total += (1 if digit is None else digit) * mult
            digit, last_mult = None, mult
    if digit is not None:
        total += digit * (last_mult // 10 if last_mult <= 1000 else 1)
    return Decimal(total)


def _cn2an(span: str) -> Decimal | None:
    import cn2an  # lazy: a slow import, only needed for 万/亿/零 forms

    try:
        value = cn2an.cn2an(span, "normal")
    except (ValueError, KeyError, IndexError):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def expand_year(value: int, digits: int) -> int | None:
    """A year written with 2 or 4 digits (08年 → 2008, 79年 → 1979, 2019年); None if not a year."""
    if digits == 4 and 1900 <= value <= 2100:
        return value
    if digits == 2:
        return 2000 + value if value < 60 else 1900 + value
    return None


JSON_INT_LIMIT = 2 ** 63  # beyond this an integer is sent as text (orjson and many JSON readers stop at 64 bits)
JSON_DIGITS_LIMIT = 30  # a decimal with more significant digits than a float holds is sent as text


def number_out(value: Decimal | None) -> int | float | str | None:
    """A JSON-friendly number: int or float, or the exact value as text when it cannot be one
    without loss (a 4,300-digit numeral in a draft must not break the response)."""
    if value is None:
        return None
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value():
        return int(value) if abs(value) < JSON_INT_LIMIT else render(value)
    if len(value.as_tuple().digits) > JSON_DIGITS_LIMIT or abs(value.adjusted()) > 300:
        return render(value)
    return float(value)


def render(value: Decimal) -> str:
    """A plain Arabic rendering of a value (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")
