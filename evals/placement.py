"""Bullet placement measured on past summaries: `python -m evals.placement [--split all|index|heldout]`.

The labelled set: every sentence of a past summary's section that states a fact (a figure, or
a verb of work) is a bullet, labelled by the section it came from — the planner's topic that
the section's own heading names (sections.topic_of on the heading alone), or the problems /
plan kind. Sections whose heading names no topic are left out. The planner classifies each
bullet on its own; accuracy is the share placed under its own section's label.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from drafting.flow.plan import classify_fact
from drafting.flow.retrieve import TOPIC_KEYS, topic_votes
from drafting.retrieval.corpus import load_summaries
from drafting.retrieval.sections import GENERAL_TOPIC, split_summary, topic_of

LABELS = TOPIC_KEYS
_SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
_FACT = re.compile(r"\d|[一二三四五六七八九十百千万]+[名家个人次户场项元期届所]|开展|组织|举办|建立|签订|慰问|走访|发放|召开|完成|参加")
MIN_CHARS, MAX_CHARS = 8, 120


@dataclass(frozen=True)
class Labelled:
    summary_id: str
    bullet: str
    label: str
    heading: str


def labelled_bullets(split: str = "all") -> list[Labelled]:
    out = []
    for summary in load_summaries(split):  # type: ignore[arg-type]
        for section in split_summary(summary):
            label = section_label(section.kind, section.heading)
            if label is None:
                continue
            body = "\n".join(line for line in section.text.split("\n") if line.strip() not in section.heading)
            for sentence in _SENTENCE.findall(body):
                sentence = sentence.strip()
                if MIN_CHARS <= len(sentence) <= MAX_CHARS and _FACT.search(sentence):
                    out.append(Labelled(summary.id, sentence, label, section.heading))
    return out


def section_label(kind: str, heading: str) -> str | None:
    """The planner's topic key a past section stands for: its kind, or the topic its own heading
    names; None when the heading names none."""
    if kind in ("problems", "plan"):
        return kind
    if kind != "topic" or not heading:
        return None
    topic = topic_of(heading, "")
    return None if topic == GENERAL_TOPIC else LABELS[topic]


def reference_labels(case: dict, facts: list[str]) -> list[str | None]:
    """Gold labels of an eval case's bullets: each bullet is found in the section of the case's
    reference that shares most of its character bigrams; that section's label is the bullet's."""
    from drafting.checker.clauses import bigrams
    from drafting.retrieval.corpus import Summary

    reference = Summary(case.get("id", ""), "", "", case.get("period", ""), case.get("reference", ""))
    sections = [(section_label(s.kind, s.heading), bigrams(s.text)) for s in split_summary(reference)]
    labels: list[str | None] = []
    for fact in facts:
        grams = bigrams(fact)
        if not sections or not grams:
            labels.append(None)
            continue
        label, overlap = max(((lab, len(grams & g)) for lab, g in sections), key=lambda x: x[1])
        labels.append(label if overlap >= len(grams) // 2 else None)
    return labels


def accuracy(items: list[Labelled], classify: Callable[[Labelled], str]) -> tuple[float, Counter[tuple[str, str]]]:
    confusion: Counter[tuple[str, str]] = Counter()
    for item in items:
        confusion[(item.label, classify(item))] += 1
    right = sum(n for (gold, got), n in confusion.items() if gold == got)
    return (right / len(items) if items else 0.0), confusion


def _kind(label: str) -> str:
    return label if label in ("plan", "problems") else "done"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="要点归类（分节）准确率")
    parser.add_argument("--split", default="all", choices=("all", "index", "heldout"))
    args = parser.parse_args(argv)
    items = labelled_bullets(args.split)
    print(f"标注集：{len(items)} 条要点（{len({i.summary_id for i in items})} 篇总结）")
    runs = (("关键词", lambda item: classify_fact(item.bullet)),
            ("关键词 + 近邻投票（排除本篇）", lambda item: classify_fact(
                item.bullet, lambda text: topic_votes(text, exclude=(item.summary_id,)))))
    for name, classify in runs:
        score, confusion = accuracy(items, classify)
        done_as_plan = sum(n for (gold, got), n in confusion.items() if _kind(gold) == "done" and got == "plan")
        plan_as_done = sum(n for (gold, got), n in confusion.items() if gold == "plan" and _kind(got) == "done")
        n_done = sum(1 for i in items if _kind(i.label) == "done")
        n_plan = sum(1 for i in items if i.label == "plan")
        print(f"\n{name}：归类准确率 {score:.1%}；已完成的工作归入“下一步” {done_as_plan}/{n_done}，"
              f"计划归入已做的工作 {plan_as_done}/{n_plan}")
        by_label = Counter(item.label for item in items)
        for label, n in by_label.most_common():
            right = confusion[(label, label)]
            wrong = Counter({got: k for (gold, got), k in confusion.items() if gold == label and got != label})
            print(f"  {label:<9} {n:>4} 条  {right / n:6.1%}  错到：{dict(wrong.most_common(3))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
