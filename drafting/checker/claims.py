"""The claim check: what a draft says was done must come from the bullets or the request.

Reported, each as a span of the draft with a Chinese reason:
- *work clauses* — a clause with a work verb (开展, 组织, 举办, …; `claims.txt`) whose content,
  genre words and vague words left out, is mostly not in the bullets, the request fields or the
  draft's own headings (character coverage weighted by rarity, see `clauses`);
- *titles and bodies* — a name in “”/《》, or a named body (…公司, …医院), that the input lacks;
- *text that is not content* — the prompt's words, meta-text, source annotations;
- *political framing* — 指导思想, 党的N大, N届M中全会, 工会N大 written where no bullet carries
  it (only the opening may hold the year's guidance), or that contradicts the year, or two
  framings of different eras side by side.
Genre boilerplate of effects and stances (切实维护了职工合法权益) is never a claim.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from drafting.checker.clauses import CharWeights, bigrams, clause_spans, coverage, sentence_spans
from drafting.checker.lexicon import Lexicon
from drafting.checker.model import Figure
from drafting.checker.vocabulary import Vocabulary
from drafting.headings import ANY_LEVEL, LEVEL1_START

GROUNDED = 0.5  # share of a work clause's character bigrams (boilerplate left out) the input must hold
MIN_CONTENT_BIGRAMS = 4  # a clause with less content than this claims nothing assessable
NAME_COVERED = 0.75
_QUOTED = re.compile(r"[“《「『\"]([^“”《》「」『』\"\n]{1,30})[”》」』\"]")
# A source annotation or editor's note left in the text (（原文…） （注：…） 【待补充】): meta text, never a claim; hygiene drops the sentence.
ANNOTATION = re.compile(r"[（(\[【](?:原文|注[:：]|此处|略去|编者|待补充|待核实|来源|出处|示例)[^）)\]】\n]{0,30}[)）\]】]")
_BODY = re.compile(r"(?:有限公司|股份公司|公司|集团|医院|卫生院|学校|大学|学院|中学|小学|幼儿园|银行|项目部|委员会|协会|研究院|研究所|监督所|派出所|街道办)")
_NAME_BEFORE = re.compile(r"[^\W\d_的地得了着和与及或并为在到对向把将被从由于以围绕全本各该所我贵其]{2,}$")
_GENERIC_BEFORE_BODY = re.compile(r"(?:各|全|本|我|该|有关|相关|所在|辖区|下属|基层|各类|其他|兄弟|一家|多家|企业|单位)$")

# Political framing: the pattern, and the first year it can stand in a summary.
_CN = {"十三": 13, "十四": 14, "十五": 15, "十六": 16, "十七": 17, "十八": 18, "十九": 19, "二十": 20, "二十一": 21}
_PARTY_CONGRESS = {15: 1997, 16: 2002, 17: 2007, 18: 2012, 19: 2017, 20: 2022, 21: 2027}
_UNION_CONGRESS = {13: 1998, 14: 2003, 15: 2008, 16: 2013, 17: 2018, 18: 2023, 19: 2028}
_PLENUM_OFFSET = {"一": 0, "二": 0, "三": 1, "四": 2, "五": 3, "六": 4, "七": 5}
_THOUGHTS = {"习近平新时代中国特色社会主义思想": 2017, "科学发展观": 2003, "三个代表": 2000, "邓小平理论": 1997}
_FRAMING = re.compile(
    r"(?P<thought>习近平新时代中国特色社会主义思想|科学发展观|“?三个代表”?重要思想|邓小平理论)"
    r"|(?P<plenum>(?P<pn>十[三四五六七八九]|二十一?)届(?P<pm>[一二三四五六七])中全会)"
    r"|(?P<union>(?:中国工会|全国工会|工会)(?P<un>十[三四五六七八九]|二十)大)"
    r"|(?P<party>(?:党的)?(?P<cn>十[五六七八九]|二十一?)大)")
# A clause saying what still needs doing states a shortcoming, not work done.
_SHORTCOMING = re.compile(r"仍需|仍要|有待|亟待|亟需|还需|尚需|需要进一步|需进一步|还不够|不够|不足|欠缺|薄弱|滞后")
_WORD_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")
PARTICLES = frozenset("的地得了着")
SENTENCE_END = re.compile(r"[。！？；;!?]")
_FRAMING_HINT = re.compile(r"[十二][一二三四五六七八九十]?大|中全会|社会主义思想|发展观|三个代表|小平理论")


WORK, NAME, BODY, META, FRAMING, EFFECT = "work", "name", "body", "meta", "framing", "effect"
EFFECT_REASON = "要点中没有的成效或评价"
# A clause saying what the work achieved (确保了资金的合理使用和透明度, 极大地提升了会员的幸福感):
# an effect verb at its head, after the adverbs and joiners that lead into one.
_EFFECT_HEAD = re.compile(
    r"(?:并且|并|从而|进而|以此|同时|也|还|均|都|有效地?|切实|不断|进一步|更好地|更加|极大地|大大|全面|着力"
    r"|努力|积极|持续|稳步|逐步|较好地|很好地|显著)*"
    r"(?:确保|保证|保障|提升|提高|增强|促进|维护|推动|激发|营造|丰富|加强|强化|夯实|彰显|凸显|突显|树立|满足"
    r"|赢得|受到|得到|取得|实现|形成|打造|助力)")


@dataclass(frozen=True, slots=True)
class Claim:
    text: str
    start: int
    end: int
    reason: str
    kind: str = WORK  # work, name, body, meta or framing

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "start": self.start, "end": self.end, "reason": self.reason, "kind": self.kind}


@dataclass(frozen=True)
class Framing:
    key: str
    start: int
    end: int
    text: str
    first: int  # first year it can stand in a summary
    last: int | None  # last year (the next congress's year), None for a guiding thought


def _framing(m: re.Match[str]) -> Framing | None:
    text = m.group()
    if m.group("thought"):
        name = "三个代表" if "三个代表" in text else text
        return Framing(name, m.start(), m.end(), text, _THOUGHTS[name], None)
    if m.group("plenum"):
        n = _CN[m.group("pn")]
        if n not in _PARTY_CONGRESS:
            return None
        return Framing(f"{n}届{m.group('pm')}中", m.start(), m.end(), text,
                       _PARTY_CONGRESS[n] + _PLENUM_OFFSET[m.group("pm")], _PARTY_CONGRESS.get(n + 1))
    if m.group("union"):
        n = _CN[m.group("un")]
        if n not in _UNION_CONGRESS:
            return None
        return Framing(f"工会{n}大", m.start(), m.end(), text, _UNION_CONGRESS[n], _UNION_CONGRESS.get(n + 1))
    n = _CN[m.group("cn")]
    if n not in _PARTY_CONGRESS:
        return None
    return Framing(f"党的{n}大", m.start(), m.end(), text, _PARTY_CONGRESS[n], _PARTY_CONGRESS.get(n + 1))


def framings(text: str) -> list[Framing]:
    if not _FRAMING_HINT.search(text):
        return []
    return [f for m in _FRAMING.finditer(text) if (f := _framing(m)) is not None]


def _era(f: Framing) -> str:
    return f"{f.first}年起" if f.last is None else f"{f.first}—{f.last}年"


def _year_of(fields: Sequence[str]) -> int | None:
    for field in fields:
        if m := re.fullmatch(r"(\d{4})年", field.strip()):
            return int(m.group(1))
    return None


def framing_claims(draft: str, found: list[Framing], inputs: str, fields: Sequence[str]) -> list[Claim]:
    """Claims of the framings `found` in `draft`."""
    year = _year_of(fields)
    given = {f.key for f in framings(inputs)}
    heading = LEVEL1_START.search(draft)
    opening = (0, heading.start()) if heading else (0, 0)  # what precedes the first 一、 heading
    claims: dict[tuple[int, int], Claim] = {}
    for f in found:
        if year is not None and (year < f.first or (f.last is not None and year > f.last)):
            claims[(f.start, f.end)] = Claim(f.text, f.start, f.end,
                                             f"提法与年份不符：“{f.text}”适用于{_era(f)}，这份总结是{year}年的", FRAMING)
        elif f.key not in given and not opening[0] <= f.start < opening[1]:
            claims[(f.start, f.end)] = Claim(f.text, f.start, f.end,
                                             "要点中没有这一提法：指导思想和会议精神只能来自要点，或出现在按年份生成的开头", FRAMING)
    for s, e in sentence_spans(draft):
        inside = [f for f in found if s <= f.start < e]
        for i, a in enumerate(inside):
            for b in inside[i + 1:]:
                if (a.last is not None and a.last < b.first) or (b.last is not None and b.last < a.first):
                    for f, g in ((a, b), (b, a)):
                        claims.setdefault((f.start, f.end), Claim(
                            f.text, f.start, f.end, f"不同时期的提法并列：“{f.text}”（{_era(f)}）与“{g.text}”（{_era(g)}）", FRAMING))
    return sorted(claims.values(), key=lambda c: c.start)


def heading_spans(draft: str) -> list[tuple[int, int]]:
    """A first line that is a title (no sentence punctuation), and headings: a heading line,
    or the run-in heading that opens a line ((一)依法推进普遍建立工会组织。今年…)."""
    spans, pos = [], 0
    for n, line in enumerate(draft.split("\n")):
        end = pos + len(line)
        if n == 0 and len(line) <= 50 and not re.search(r"[，。；！？,;]", line):
            spans.append((pos, end))
        elif ANY_LEVEL.match(line):
            first = SENTENCE_END.search(line)
            heading_end = first.end() if first else len(line)
            if heading_end <= 40:
                spans.append((pos, pos + heading_end))
        pos = end + 1
    return spans


def _spans(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(text)] if pattern is not None else []


def _mask(length: int, spans: Sequence[tuple[int, int]]) -> list[bool]:
    marks = [False] * length
    for s, e in spans:
        marks[s:e] = [True] * (e - s)
    return marks


class ClaimChecker:
    """The grounding material (bullets, fields, the draft's headings) and the vocabulary."""

    def __init__(self, inputs: Sequence[str], vocabulary: Vocabulary, lexicon: Lexicon, weights: CharWeights) -> None:
        self.text = "\n".join(inputs)
        self.grams = bigrams(self.text)
        self.vocabulary = vocabulary
        self.lexicon = lexicon
        self.weights = weights
        self.work_clauses = 0

    def covered_share(self, text: str, weights: list[float] | None = None) -> tuple[float, float]:
        hit, total = coverage(text, self.grams, self.weights.of(text) if weights is None else weights)
        return (hit / total if total else 1.0), total

    def _free(self, name: str) -> bool:
        for pattern in (self.vocabulary.free, self.lexicon.pattern):
            if pattern is not None and pattern.fullmatch(name):
                return True
        return False

    def check(self, draft: str, figures: list[Figure], fields: Sequence[str],
              anchored: Sequence[Figure] = ()) -> list[Claim]:
        """Claims of `draft`; a clause holding one of the `anchored` figures (a bullet's figure,
        held to its fact by the relation check) is not judged again here."""
        v = self.vocabulary
        anchors = sorted(f.start for f in anchored)
        found = framings(draft)
        free = _spans(v.free, draft)
        in_free = _mask(len(draft), free)
        # Figures and framing are judged on their own: no bigram touching one counts as content.
        in_figure = _mask(len(draft), [(f.start, f.end) for f in figures] + [(f.start, f.end) for f in found])
        work = sorted(s for s, e in _spans(v.work, draft) if not all(in_free[s:e]) and not any(in_figure[s:e]))
        meta = sorted(s for s, _ in _spans(v.meta, draft) + _spans(ANNOTATION, draft))
        skip_lines = heading_spans(draft)
        claims: list[Claim] = []
        self.work_clauses = 0  # clauses stating work that were held to the input
        for s, e in sentence_spans(draft):
            if any(ls <= s < le for ls, le in skip_lines):
                continue
            sentence = draft[s:e]
            if _any_in(meta, s, e):
                body = sentence.rstrip("。！？；;!?")
                claims.append(Claim(body, s, s + len(body), "提示词、说明文字或来源注释，不是总结正文", META))
                continue
            for cs, ce in clause_spans(draft, s, e):
                if _any_in(anchors, cs, ce):  # a bullet's figure on its own fact: grounded
                    self.work_clauses += _any_in(work, cs, ce)
                    continue
                if (claim := self._clause(draft, cs, ce, _any_in(work, cs, ce), in_free[cs:ce], in_figure[cs:ce])) is not None:
                    claims.append(claim)
        claims += framing_claims(draft, found, self.text, fields)
        return _dedupe(claims)

    def _clause(self, draft: str, cs: int, ce: int, has_work: bool, skip: list[bool], figure: list[bool]) -> Claim | None:
        clause = draft[cs:ce]
        for m in _QUOTED.finditer(clause):
            name = m.group(1).strip()
            if not name or re.search(r"\d", name) or self._free(name):
                continue
            share, _ = self.covered_share(name)
            if share < NAME_COVERED and name not in self.text:
                return Claim(clause, cs, ce, f"要点中没有“{name}”这一名称", NAME)
        for m in _BODY.finditer(clause):
            name = _NAME_BEFORE.search(clause[:m.start()])  # the proper name in front of 公司, 医院…
            if name is None or _GENERIC_BEFORE_BODY.search(clause[:m.start()]):
                continue  # 围绕医院…, 为学校…, 各企业: a kind of body, not a named one
            before = name.group()[-4:]
            share, total = self.covered_share(before + m.group())
            if total and share < NAME_COVERED:
                return Claim(clause, cs, ce, f"要点中没有这个单位：“{before}{m.group()}”", BODY)
        if not has_work or _SHORTCOMING.search(clause):
            return None
        self.work_clauses += 1
        if not self._grounded(clause, skip, figure):
            return Claim(clause, cs, ce, "要点中没有这项工作（未见于任何要点）")
        return None

    def _grounded(self, clause: str, skip: Sequence[bool], figure: Sequence[bool]) -> bool:
        """Whether the input holds most of the clause's content: its bigrams with the genre and
        vague words and the figures left out. A bigram with a particle (了财, 部的) says nothing
        of the work: it is left out of the share, or 举办了财务、经审干部的培训 fails against
        办一次财务、经审干部培训. Too little content to judge counts as grounded."""
        content = {clause[i:i + 2] for i in range(len(clause) - 1)
                   if not (skip[i] and skip[i + 1]) and not (figure[i] or figure[i + 1])
                   and _WORD_CHAR.match(clause[i]) and _WORD_CHAR.match(clause[i + 1])}
        words = {g for g in content if not PARTICLES.intersection(g)} or content
        return len(content) < MIN_CONTENT_BIGRAMS or len(words & self.grams) >= GROUNDED * len(words)

    def effects(self, draft: str, figures: Sequence[Figure]) -> list[Claim]:
        """The clauses of `draft` that state an effect or evaluation the input does not hold
        (确保了资金的合理使用和透明度 after 办一次财务培训): an effect verb at the clause's head, no
        work verb and no figure in it, and most of its content (genre words left out) in no
        bullet. Genre boilerplate (切实维护了职工合法权益) is free, so it passes; headings and
        meta-text are not judged here."""
        v = self.vocabulary
        in_free = _mask(len(draft), _spans(v.free, draft))
        in_figure = _mask(len(draft), [(f.start, f.end) for f in figures])
        work = sorted(s for s, _ in _spans(v.work, draft))
        skip_lines = heading_spans(draft)
        found: list[Claim] = []
        for s, e in sentence_spans(draft):
            if any(ls <= s < le for ls, le in skip_lines):
                continue
            for cs, ce in clause_spans(draft, s, e):
                lead = len(draft[cs:ce]) - len(draft[cs:ce].lstrip("，,；;：: “"))
                cs += lead
                clause = draft[cs:ce]
                if _any_in(work, cs, ce) or any(in_figure[cs:ce]) or not _EFFECT_HEAD.match(clause) \
                        or _SHORTCOMING.search(clause):
                    continue
                if not self._grounded(clause, in_free[cs:ce], in_figure[cs:ce]):
                    found.append(Claim(clause, cs, ce, EFFECT_REASON, EFFECT))
        return found


def _any_in(starts: list[int], start: int, end: int) -> bool:
    """Whether a sorted list of positions has one in [start, end)."""
    i = bisect_left(starts, start)
    return i < len(starts) and starts[i] < end


def _dedupe(claims: list[Claim]) -> list[Claim]:
    out: list[Claim] = []
    for c in sorted(claims, key=lambda c: (c.start, -c.end)):
        if out and c.start < out[-1].end:
            continue
        out.append(c)
    return out
