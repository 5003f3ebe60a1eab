"""Comparisons the service computes, never the model (the `derive` option).

A bullet that states this period's figure and an earlier one (会员1825人，去年同期1700人) gets
the growth and the difference; one that states a whole and a part (会员1825人，其中女职工800人)
gets the part's share. They are appended to the bullet itself, marked 系统计算 with how they
were computed, so the model writes them from the bullet like any other figure and the checker
finds them there. Without the option nothing is added, and a percentage the model computed on
its own stays flagged as unsupported (the checker's "疑似由要点数字推算").

`prepare` is the one way from what the user sent to what is drafted and checked: instruction
lines screened out, then the comparisons added. Drafting, rewriting a section and re-checking
an edit all go through it, so they check against the same bullets.
"""
from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from drafting.checker.extract import extract
from drafting.checker.model import Figure
from drafting.checker.normalize import render
from drafting.flow.request import DraftRequest, SectionInput
from drafting.flow.screen import screen_request

DERIVE_OPTION = "derive"
MARK = "（系统计算："
_EARLIER = re.compile(r"(去年同期|上年同期|上年度|去年|上年|同期)$")
_STATED_CHANGE = re.compile(r"[增减多少升降超]")  # 比去年增加20家: the change is already stated
_PART = re.compile(r"其中([^，,。；;：:、\d]{0,8})$")
_SCALES = {10**4: "万", 10**8: "亿"}
_TENTH = Decimal("0.1")


def _exact(figure: Figure) -> bool:
    return figure.kind == "quantity" and figure.value is not None and not figure.hedge


def _amount(value: Decimal, like: Figure) -> str:
    """`value` written the way `like` is (30万元 → 5万元, 1825人 → 125人)."""
    scale = like.scale if like.scale in _SCALES else 1
    return f"{render(value / scale)}{_SCALES.get(scale, '')}{like.unit_text}"


def _percent(value: Decimal) -> str:
    return f"{render(value.quantize(_TENTH, rounding=ROUND_HALF_UP))}%"


def derivations(fact: str) -> list[str]:
    """The comparisons one bullet supports, each with how it was computed."""
    figures = [f for f in extract(fact) if f.kind in ("quantity", "period")]
    quantities = [f for f in figures if f.kind == "quantity"]
    out: list[str] = []
    for now, then in pairwise(quantities):
        if not (_exact(now) and _exact(then)) or now.unit != then.unit or now.unit_text != then.unit_text:
            continue
        assert now.value is not None and then.value is not None
        between = fact[now.end:then.start]
        if (earlier := _EARLIER.search(between.rstrip("为是有达共计约：:"))) and len(between) <= 12 \
                and not _STATED_CHANGE.search(between) and then.value > 0:
            label = "同比" if "同期" in earlier.group(1) else f"比{earlier.group(1)}"
            change = now.value - then.value
            if change == 0:
                out.append(f"{label}持平")
                continue
            verb = ("增长", "增加") if change > 0 else ("下降", "减少")
            out.append(f"{label}{verb[0]}{_percent(abs(change) / then.value * 100)}、{verb[1]}{_amount(abs(change), now)}"
                       f"（{then.text}→{now.text}）")
        elif (part := _PART.search(between.rstrip("为是有达共计约：:"))) and now.value > then.value:
            who = part.group(1).strip() or "其中"
            out.append(f"{who}占{_percent(then.value / now.value * 100)}（{then.text}÷{now.text}）")
    return out


def _with_derived(fact: str, derive: bool) -> str:
    """The bullet with its comparisons appended (computed afresh: an outline's bullet may carry
    them from planning, and its figures may have been edited since), or without any."""
    fact = fact.split(MARK, 1)[0]
    return f"{fact}{MARK}{'；'.join(found)}）" if derive and (found := derivations(fact)) else fact


def with_derived(request: DraftRequest) -> DraftRequest:
    """The request with each bullet's comparisons appended when the user asked for them."""
    derive = bool(request.options.get(DERIVE_OPTION))
    if not derive and not any(MARK in fact for fact in request.facts):
        return request
    sections = [SectionInput(title=s.title, facts=[_with_derived(fact, derive) for fact in s.facts])
                for s in request.sections]
    return replace(request, sections=sections)


def prepare(given: DraftRequest) -> tuple[DraftRequest, list[str]]:
    """What is drafted and checked for what the user sent, and the lines left out."""
    screened, ignored = screen_request(given)
    return with_derived(screened), ignored
