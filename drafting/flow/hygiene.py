"""Text hygiene after every model call: what a clerk would strike out before reading further.

Applied to each paragraph the model writes (and to each repair), deterministically:
- sentences that are not content: the prompt's words, role text (作为…秘书), meta-text
  (以下是本节正文…), source notes (（原文截断）) — the claim check's `meta` vocabulary;
- a bullet's label pasted raw at the head of a clause (建会入会：新建非公企业工会12家);
- a sentence that restates an earlier one of the same paragraph;
- a sentence cut off before its predicate (此外，苍岭项目部在业主新增100米开挖任务下。);
- an item repeated inside a list (凝聚力、吸引力和凝聚力) and a boilerplate phrase said twice;
- a sentence that only restates the heading (东湖区总工会依法履职维权，构建和谐劳动关系。);
- 一是…三是 with 二是 struck out by the above (the enumerators go), 其次/再次 with no 首先
  before them, and a connective (其中，此外，同时，最后，) opening the paragraph, where it has
  nothing to follow.
What is dropped for carrying a bullet's figure comes back through the check: the figure is then
missing, and repair restates the bullet.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from drafting.checker.claims import ANNOTATION
from drafting.checker.clauses import bigrams
from drafting.flow.check import vocabulary
from drafting.headings import CN_ORDINALS

DUPLICATE_SHARE = 0.7  # bigram overlap with an earlier sentence (over the shorter) that makes a repeat
FILLER_SHARE = 0.25  # share of a sentence's content bigrams from the bullets (not the heading) below which it says nothing
MIN_BOILERPLATE_CHARS = 4
_SENTENCE = re.compile(r"[^。！？；;!?]+[。！？；;!?]*")
_ROLE = re.compile(r"作为[^，。]{0,12}(?:秘书|助手|写作者|撰稿人)|(?:文字秘书|写作助手)[^，。]{0,6}岗位")
# A sentence ending on a preposition frame, a conjunction or a particle has lost its predicate;
# so has one that is only a 按照/根据… phrase ending on its object (按照市、区总工会的组建任务。,
# what a dropped clause left behind). The second form matches none of the corpus's sentences.
# 地 ends a cut-off adverbial (认真地。) but also nouns (培训基地。, 工地。, 各地。).
CUT_OFF = re.compile(r"(?:在[^，。；！？]{0,30}(?:下|中)|[和与及或并而且对向把将为从于的得等]|(?<![基土工场阵园各本当营田绿产耕山墓驻属])地)[。！？；]$"
                     r"|^(?:[^，。；！？,]{0,6}[，,])?(?:按照|根据|依照|依据|围绕|遵照|对照)"
                     r"[^，。；！？,了着过]{0,30}的[^，。；！？,的了着过]{1,8}[。！？；]$")
_LABEL = re.compile(r"^([\u4e00-\u9fff]{2,8})[：:]")
_ITEM = r"(?:(?![和与及])[\u4e00-\u9fff]){2,8}"
_LIST = re.compile(rf"{_ITEM}(?:(?:、|和|与|及){_ITEM})+")


def bullet_labels(facts: Sequence[str]) -> list[str]:
    """The labels the clerk opened bullets with (建会入会：…), longest first."""
    labels = {m.group(1) for fact in facts if (m := _LABEL.match(fact.strip()))}
    return sorted(labels, key=len, reverse=True)


def _is_meta(sentence: str) -> bool:
    words = vocabulary()
    return bool((words.meta and words.meta.search(sentence)) or _ROLE.search(sentence)
                or ANNOTATION.search(sentence))


def _dedupe_list(match: re.Match[str]) -> str:
    items = re.split(r"(、|和|与|及)", match.group())
    words, seps = items[0::2], items[1::2]
    kept: list[str] = []
    out = ""
    for i, word in enumerate(words):
        if any(earlier.endswith(word) for earlier in kept):  # 我们的凝聚力、吸引力和凝聚力
            continue
        if kept:
            out += seps[i - 1] if i - 1 < len(seps) else "、"
        kept.append(word)
        out += word
    return out


def _strip_labels(sentence: str, labels: list[str]) -> str:
    for label in labels:
        sentence = re.sub(rf"(^|[，,；;])(?:此外，|同时，)?{re.escape(label)}[：:]", r"\1", sentence)
    return sentence


_PUNCT = re.compile(r"[，。；！？、,;：:“”‘’\"'（）()《》\s]")


STATED_SHARE = 3  # a text states a bullet when it carries at least a third of its bigrams (and 2)
SAID_SHARE = 0.6  # …and says one clause of it when it carries this share of the clause's bigrams
MIN_SAID_GRAMS = 4
_BULLET_CLAUSE = re.compile(r"[^，,；;。]+")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NAME_COLON = re.compile(r"(?<=[”》])[：:]")
_QUOTE_PAIRS = (("“", "”"), ("《", "》"), ("（", "）"), ("(", ")"))


def stated(grams: set[str], overlap: int) -> bool:
    """Whether a text sharing `overlap` of a bullet's character `grams` states that bullet."""
    return bool(grams) and overlap >= max(2, len(grams) // STATED_SHARE)


def states(text: str, fact: str) -> bool:
    """Whether `text` still says what the bullet `fact` says (its wording, not only its figures)."""
    grams = bigrams(re.sub(r"\s", "", fact))
    return stated(grams, len(grams & bigrams(text)))


def says(text: str, clause: str) -> bool:
    """Whether `text` says one clause of a bullet: most of its words (`SAID_SHARE` of its
    bigrams), where `states` takes a third of a whole bullet. Too short a clause to judge is said."""
    grams = content_grams(clause)
    return len(grams) < MIN_SAID_GRAMS or len(grams & content_grams(text)) >= SAID_SHARE * len(grams)


def bullet_clauses(fact: str) -> list[str]:
    """The clauses of a bullet, as `unsaid_clauses` judges them. A comma inside a quotation does
    not end one, and a quoted name before a colon is one of its own: “新工人、新市民，大培训、
    大提升”：3月初发问卷… is the programme's name and 3月初发问卷…, not “新工人、新市民 and the rest
    (the activity alone would say most of a clause holding both, and the name would go unsaid)."""
    spans: list[list[int]] = []
    for m in _BULLET_CLAUSE.finditer(fact):
        last = fact[spans[-1][0]:spans[-1][1]] if spans else ""
        if any(last.count(a) > last.count(b) for a, b in _QUOTE_PAIRS):
            spans[-1][1] = m.end()  # the comma was inside a quotation
        else:
            spans.append([m.start(), m.end()])
    clauses: list[str] = []
    for s, e in spans:
        clauses += _NAME_COLON.split(fact[s:e])
    return [c for c in (c.strip() for c in clauses) if c]


def unsaid_clauses(text: str, fact: str) -> list[str]:
    """The clauses of a bullet that `text` does not say (为女职工办法律和健康专题讲座 when the
    draft kept only the bullet's 报送信息两篇 and 新增女职工专项集体合同10家). A clause whose
    every number the text states is said in other words (发展了2名新党员 for 工会干部中发展新党员
    2名): the checker holds each figure to its own bullet, so it is not restated."""
    numbers = set(_NUMBER.findall(text))
    return [c for c in bullet_clauses(fact) if not says(text, c)
            and not (set(_NUMBER.findall(c)) and set(_NUMBER.findall(c)) <= numbers)]


def content_grams(text: str) -> set[str]:
    """Character bigrams of `text` with punctuation and spaces taken out (“三八”节 ~ 三八节)."""
    return bigrams(_PUNCT.sub("", text))


def signature(sentence: str) -> tuple[set[str], set[str]]:
    """What a repeat is judged by: the sentence's bigrams and the numbers it states."""
    return content_grams(sentence), set(_NUMBER.findall(sentence))


def repeats(sentence: str, earlier: list[tuple[set[str], set[str]]]) -> bool:
    """Whether `sentence` says again what one of the `earlier` sentences said (most of its words,
    and no figure that one did not state)."""
    grams, numbers = signature(sentence)
    return bool(grams) and any(len(grams & g) >= DUPLICATE_SHARE * min(len(grams), len(g)) and numbers <= n
                               for g, n in earlier)


def says_nothing(sentence: str, fact_grams: set[str], context_grams: set[str]) -> bool:
    """A filler sentence: no figure, and of its words (boilerplate left out) hardly any a bullet's
    — 东湖区总工会依法履职维权，构建和谐劳动关系。 restates the heading; 积极参与各类活动，推动经济
    发展和社会进步。 is boilerplate alone. The eval counts filler with this same rule."""
    core = _PUNCT.sub("", sentence)
    if len(core) < 5 or re.search(r"\d", sentence):
        return False
    free = vocabulary().free
    skip = [False] * len(core)
    for m in free.finditer(core) if free is not None else ():
        skip[m.start():m.end()] = [True] * (m.end() - m.start())
    content = {core[i:i + 2] for i in range(len(core) - 1) if not (skip[i] and skip[i + 1])}
    return len((content & fact_grams) - context_grams) < FILLER_SHARE * max(len(content), 1)


_ENUMERATED = re.compile(r"([一二三四五六七八九十])是")
_OPENING_CONNECTIVE = re.compile(r"^(?:其中|此外|另外|同时|与此同时|最后)[，,]")
_NEXT_IN_ORDER = re.compile(r"(?:其次|再次)[，,]")  # a step of 首先…其次…最后
_NOT_ONLY = re.compile(r"不仅(?:仅)?([^。！？；]*)")
_ALSO = re.compile(r"而且|并且|还|也|更")


def _mend(paragraph: str) -> str:
    """Enumerators that no longer count 一、二、三… in order are dropped, and so are 其次/再次
    with no 首先 before them (a drop took the first step: seed-003-11 §5 opened on 其次); an
    opening connective too, and a 不仅 whose 而且/还 went with a struck clause (…演出，不仅丰富
    了大家的精神文化生活。)."""
    found = [m.group(1) for m in _ENUMERATED.finditer(paragraph)]
    if found and found != list(CN_ORDINALS[:len(found)]):
        paragraph = _ENUMERATED.sub("", paragraph)
    first = paragraph.find("首先")
    paragraph = _NEXT_IN_ORDER.sub(lambda m: m.group() if 0 <= first < m.start() else "", paragraph)
    paragraph = _NOT_ONLY.sub(lambda m: m.group() if _ALSO.search(m.group(1)) else m.group(1), paragraph)
    return _OPENING_CONNECTIVE.sub("", paragraph)


def clean_paragraph(text: str, facts: Sequence[str], context: Sequence[str] = ()) -> str:
    """`text` with the sentences and pieces above removed; `context` (the heading, the body's
    name, the period) is what a sentence restating only the heading is made of."""
    labels = bullet_labels(facts)
    free = vocabulary().free
    fact_grams = content_grams("\n".join(facts))
    context_grams = content_grams("\n".join(context))
    kept: list[str] = []
    seen: list[tuple[set[str], set[str]]] = []  # (bigrams, numbers) of the sentences kept
    said: set[str] = set()
    for sentence in _SENTENCE.findall(text):
        if not sentence.strip() or _is_meta(sentence) or CUT_OFF.search(sentence.strip()):
            continue
        if context and says_nothing(sentence, fact_grams, context_grams):
            continue
        sentence = _LIST.sub(_dedupe_list, _strip_labels(sentence, labels))
        if repeats(sentence, seen):
            continue
        if free is not None:
            sentence = _drop_repeated_boilerplate(sentence, free, said)
        if sentence.strip("，,；;。 "):
            kept.append(sentence)
            seen.append(signature(sentence))
    return "\n".join(_mend(p) for p in "".join(kept).split("\n"))


def _drop_repeated_boilerplate(sentence: str, free: re.Pattern[str], said: set[str]) -> str:
    """Remove a clause whose boilerplate phrase was already said in this paragraph."""
    clauses = re.split(r"(?<=[，,])", sentence)
    out = []
    for clause in clauses:
        phrases = [m.group() for m in free.finditer(clause) if len(m.group()) >= MIN_BOILERPLATE_CHARS]
        if phrases and all(p in said for p in phrases) and len(clause.strip("，,。")) <= sum(map(len, phrases)) + 6:
            continue
        said.update(phrases)
        out.append(clause)
    joined = "".join(out)
    if joined and not joined.rstrip().endswith(("。", "！", "？", "；")) and sentence.rstrip().endswith(("。", "！", "？")):
        joined = joined.rstrip("，, ") + "。"
    return joined
