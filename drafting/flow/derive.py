"""Comparisons the service computes, never the model (the `derive` option).

A bullet that states this period's figure and an earlier one (会员1825人，去年同期1700人) gets
the growth and the difference; one that states a whole and a part (会员1825人，其中女职工800人)
gets the part's share. They are appended to the bullet itself in plain words (…，同比增长7.4%、
增加125人), so the model — or the plain fallback — writes them from the bullet like any other
figure and the checker finds them there; `derived_note` tells the user which figures the
service computed and how. Without the option nothing is added, and a percentage the model computed on
its own stays flagged as unsupported (the checker's "疑似由要点数字推算").

`prepare` is the one way from what the user sent to what is drafted and checked: instruction
lines screened out, then the comparisons added. Drafting, rewriting a section and re-checking
an edit all go through it, so they check against the same bullets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from drafting.checker.extract import extract
from drafting.checker.model import Figure
from drafting.checker.normalize import render
from drafting.flow.request import DraftRequest, SectionInput
from drafting.flow.screen import screen_request

DERIVE_OPTION = "derive"
_EARLIER = re.compile(r"(去年同期|上年同期|上年度|去年|上年|同期)$")
_STATED_CHANGE = re.compile(r"[增减多少升降超]")  # 比去年增加20家: the change is already stated
_PART = re.compile(r"其中([^，,。；;：:、\d]{0,8})$")
_SCALES = {10**4: "万", 10**8: "亿"}
_TENTH = Decimal("0.1")
# What `with_derived` appends, so that it can be taken off again before computing afresh.
_APPENDED = re.compile(r"(?:，(?:(?:同比|比(?:去年|上年度|上年))(?:增长[\d.]+%、增加|下降[\d.]+%、减少)[\d.]+[万亿]?\S{0,3}"
                       r"|同比持平|比(?:去年|上年度|上年)持平|[^，,。；;：:、\d]{0,8}占[\d.]+%))+$")


@dataclass(frozen=True)
class Derived:
    """One comparison: the words appended to the bullet, and how the service computed it."""

    text: str  # 同比增长7.4%、增加125人
    how: str  # 1700人→1825人
    earlier: str = ""  # 1700人: the figure a draft may leave out once it states the comparison
    shown: str = ""  # 7.4%: what a draft that states the comparison contains


def _exact(figure: Figure) -> bool:
    return figure.kind == "quantity" and figure.value is not None and not figure.hedge


def _amount(value: Decimal, like: Figure) -> str:
    """`value` written the way `like` is (30万元 → 5万元, 1825人 → 125人)."""
    scale = like.scale if like.scale in _SCALES else 1
    return f"{render(value / scale)}{_SCALES.get(scale, '')}{like.unit_text}"


def _percent(value: Decimal) -> str:
    return f"{render(value.quantize(_TENTH, rounding=ROUND_HALF_UP))}%"


def derivations(fact: str) -> list[Derived]:
    """The comparisons one bullet supports (its own appended ones aside)."""
    fact = base_fact(fact)
    quantities = [f for f in extract(fact) if f.kind == "quantity"]
    out: list[Derived] = []
    for now, then in pairwise(quantities):
        if not (_exact(now) and _exact(then)) or now.unit != then.unit or now.unit_text != then.unit_text:
            continue
        assert now.value is not None and then.value is not None
        between = fact[now.end:then.start]
        trimmed = between.rstrip("为是有达共计约：:")
        if (earlier := _EARLIER.search(trimmed)) and len(between) <= 12 \
                and not _STATED_CHANGE.search(between) and then.value > 0:
            label = "同比" if "同期" in earlier.group(1) else f"比{earlier.group(1)}"
            change = now.value - then.value
            how = f"{then.text}→{now.text}"
            if change == 0:
                out.append(Derived(f"{label}持平", how, then.text, "持平"))
                continue
            verb = ("增长", "增加") if change > 0 else ("下降", "减少")
            percent = _percent(abs(change) / then.value * 100)
            out.append(Derived(f"{label}{verb[0]}{percent}、{verb[1]}{_amount(abs(change), now)}", how, then.text,
                               percent))
        elif (part := _PART.search(trimmed)) and now.value > then.value:
            who = part.group(1).strip()
            out.append(Derived(f"{who}占{_percent(then.value / now.value * 100)}", f"{then.text}÷{now.text}"))
    return out


def base_fact(fact: str) -> str:
    """The bullet as the user wrote it, without the comparisons `with_derived` appended."""
    return _APPENDED.sub("", fact)


def with_derived(request: DraftRequest) -> DraftRequest:
    """The request with each bullet's comparisons appended in plain words when the user asked
    for them (computed afresh: an outline's bullet may carry them from planning, and its
    figures may have been edited since). Without the option the bullets are left exactly as
    given — a comparison the clerk typed is the clerk's."""
    if not request.options.get(DERIVE_OPTION):
        return request

    def one(fact: str) -> str:
        base = base_fact(fact)
        return base + "".join(f"，{d.text}" for d in derivations(base))

    return replace(request, sections=[SectionInput(title=s.title, facts=[one(f) for f in s.facts])
                                      for s in request.sections])


def derived_note(request: DraftRequest) -> str:
    """What the page, the API and the CLI say about the comparisons (empty without any)."""
    found = [d for fact in request.facts for d in derivations(fact)] if request.options.get(DERIVE_OPTION) else []
    if not found:
        return ""
    return "以下比较数字由系统根据要点计算（不是模型推算的），已写入对应要点：" + \
        "；".join(f"{d.text}（{d.how}）" for d in found) + "。"


def stated_by_comparison(fact: str, figure: str, draft: str) -> bool:
    """Whether `figure`, missing from `draft`, is the earlier figure of a comparison the service
    appended to `fact` and the draft states (会员1825人，同比增长7.4%: 1700人 need not be repeated)."""
    return fact != base_fact(fact) and any(d.earlier == figure and d.shown in draft for d in derivations(fact))


def prepare(given: DraftRequest) -> tuple[DraftRequest, list[str]]:
    """What is drafted and checked for what the user sent, and the lines left out."""
    screened, ignored = screen_request(given)
    return with_derived(screened), ignored
