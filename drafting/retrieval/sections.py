"""Split a past summary into the sections that retrieval returns as style examples.

A summary has an opening paragraph, numbered body sections (一、 / (一) / 1、), often a
problems part and a next-period plan (sometimes without a heading: the numbering simply
restarts at 一、), and a closing sentence. Each section keeps its original text for display;
`Section.masked` is the model-facing version (see `drafting.retrieval.masking`).

Granularity: a level-1 section of at most `MAX_CHARS` stays whole; a longer one is split into
its level-2 children (the level-1 heading kept as `context`), small neighbours merged up to
`MIN_CHARS`, and anything still too long is cut at paragraph, then sentence, boundaries.
The sections of a summary, joined with newlines, give back its text line for line.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from drafting.headings import CN_ORDINALS
from drafting.retrieval.corpus import Summary
from drafting.retrieval.masking import mask

MIN_CHARS = 150
MAX_CHARS = 900

KINDS = ("opening", "topic", "problems", "plan", "closing")
GENERAL_TOPIC = "综合"  # openings, closings, and body sections without a clear topic
PROBLEMS_TOPIC = "存在问题"  # problems sections, whatever areas they mention
MIN_TOPIC_SCORE = 3  # a heading hit, or three body hits: less is no clear topic

# Topic labels and their keywords (corpus-and-numbers.md §4). Heading hits count triple.
TOPICS: dict[str, tuple[str, ...]] = {
    "组织建设": ("组织建设", "建会", "组建", "入会", "会员", "基层工会", "工会组织", "换届", "职工之家",
             "工联会", "联合会", "会籍", "规范化建设", "非公企业", "覆盖"),
    "维权": ("维权", "权益", "集体协商", "集体合同", "工资协商", "职代会", "厂务公开", "民主管理",
           "劳动争议", "劳资", "法律援助", "调解", "劳动合同", "欠薪", "劳动保护", "安全生产", "普法"),
    "帮扶": ("帮扶", "送温暖", "慰问", "困难职工", "救助", "助学", "金秋", "清凉", "大病", "互助",
           "帮困", "特困", "再就业", "关爱", "办实事", "疗休养"),
    "劳动竞赛": ("劳动竞赛", "竞赛", "技能", "比武", "培训", "素质", "劳模", "先锋号", "立功", "建功",
             "创新", "合理化建议", "职工书屋", "学习型", "安康杯", "先进"),
    "文体": ("文体", "文化", "体育", "运动会", "比赛", "联欢", "演出", "文艺", "摄影", "书画", "健身",
           "球", "登山", "趣味"),
    "女职工": ("女职工", "女工", "三八", "妇女", "母婴", "妈妈小屋", "巾帼", "姐妹"),
    "自身建设": ("自身建设", "经费", "经审", "财务", "税务代收", "收缴", "干部队伍", "工会干部", "作风",
             "党风廉政", "宣传", "信息", "理论学习", "机关"),
    "中心工作": ("中心工作", "大局", "扶贫", "脱贫", "疫情", "防控", "招商", "征地", "拆迁", "复工复产",
             "乡村振兴", "经济建设", "节水节电", "创城"),
}

# (style, pattern): the enumerator at the start of a line. Its group 1 is the ordinal.
_ENUMERATORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cn", re.compile(rf"^([{CN_ORDINALS}]{{1,3}})\s*[、.．]")),
    ("paren_cn", re.compile(rf"^[(（]([{CN_ORDINALS}]{{1,3}})[)）]\s*[、.．]?")),
    ("num", re.compile(r"^(\d{1,2})\s*[、.．](?!\d)")),
    ("paren_num", re.compile(r"^[(（](\d{1,2})[)）]\s*[、.．]?")),
)
_HEADING_END = re.compile(r"[。：:；;！!？?]")
_FUTURE = re.compile(r"下半年|明年|来年|下一年|新的一年|今后|下一步|工作计划|工作要点|工作打算|工作思路|工作意见")
_PROBLEMS = re.compile(r"存在(?:着)?(?:的)?(?:主要)?(?:问题|不足)|问题(?:和|与|及)(?:不足|建议)|不足|差距|短板|薄弱")
_CLOSING = re.compile(r"新台阶|新的贡献|更大贡献|新局面|新的成绩|新篇章|再创佳绩|努力奋斗|总之|总而言之|展望")
_SIGN_OFF = re.compile(r"^[^。，,；;：:]{0,30}(?:工会|委员会|办公室)$|^[\dxX二〇○零一_]{2,4}年.{0,6}月.{0,6}日$")
_PART_MARK = re.compile(r"总结|计划|意见|思路|要点|打算|安排|主要工作")


@dataclass(frozen=True)
class Section:
    """One retrievable section of a past summary."""

    summary_id: str
    title: str
    org_level: str
    period: str
    ordinal: int
    kind: str
    heading: str  # the section's own heading ("" for opening/closing and headless parts)
    context: str  # the level-1 heading (or part marker) above it, "" at top level
    topic: str
    text: str  # original text, for display
    quality: str
    source: str
    owner: str = ""

    @property
    def id(self) -> str:
        return f"{self.summary_id}#{self.ordinal:03d}"

    @cached_property
    def masked(self) -> str:
        """The model-facing text: figures, names and placeholders masked."""
        return mask(self.text)


def topic_of(heading: str, body: str) -> str:
    """The topic label whose keywords match best (heading hits count triple), else 综合."""
    best, best_score = GENERAL_TOPIC, MIN_TOPIC_SCORE - 1
    for label, keywords in TOPICS.items():
        score = sum(3 * heading.count(kw) + body.count(kw) for kw in keywords)
        if score > best_score:
            best, best_score = label, score
    return best


# --- parsing ---------------------------------------------------------------------------------


@dataclass
class _Node:
    """A heading line and the lines under it (body and, for level 1, level-2 children)."""

    heading: str
    lines: list[str]  # the heading line itself first, when there is one
    kind: str
    children: list[_Node] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(line) for line in self.lines) + sum(c.size for c in self.children)

    def all_lines(self) -> list[str]:
        return self.lines + [line for c in self.children for line in c.all_lines()]


@dataclass
class _Part:
    """A run of level-1 sections: the body, or a plan that restarts the numbering."""

    kind: str
    marker: str = ""
    intro: list[str] = field(default_factory=list)
    nodes: list[_Node] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)  # enumerator styles, in order of first use
    last_ordinal: int = 0


def strip_enumerator(line: str) -> str:
    """`line` without the enumerator it starts with (一、 （二） 3、 (4)), if any; a decimal such
    as 3.5万元 is not an enumerator."""
    for _, pattern in _ENUMERATORS:
        if match := pattern.match(line):
            return line[match.end():].lstrip()
    return line


def _enumerator(line: str) -> tuple[str, int] | None:
    for style, pattern in _ENUMERATORS:
        match = pattern.match(line)
        if match:
            value = match.group(1)
            return style, int(value) if value.isdigit() else _cn_value(value)
    return None


def _cn_value(numeral: str) -> int:
    digits = {c: i + 1 for i, c in enumerate(CN_ORDINALS)}
    if numeral == "十":
        return 10
    if numeral.startswith("十"):
        return 10 + digits.get(numeral[1:], 0)
    if "十" in numeral:
        tens, _, units = numeral.partition("十")
        return digits.get(tens, 0) * 10 + digits.get(units, 0)
    return digits.get(numeral, 0)


def _heading_of(line: str) -> str:
    """The heading part of an enumerated line: up to the first stop, or the first clause."""
    match = _HEADING_END.search(line)
    if match and match.start() <= 40:
        return line[: match.start()]
    if len(line) <= 40:
        return line
    clause = re.split(r"[,，]", line, maxsplit=1)[0]
    return clause if len(clause) <= 30 else line[:30]


def _is_part_marker(line: str) -> bool:
    """A short unnumbered line such as 下半年工作意见 or 20xx年街道总工会工作要点."""
    return len(line) <= 30 and not _HEADING_END.search(line[-1:]) and bool(_PART_MARK.search(line))


def _heading_kind(heading: str, default: str) -> str:
    if _PROBLEMS.search(heading):
        return "problems"
    if _FUTURE.search(heading):
        return "plan"
    return default


def _introduces_plan(line: str) -> bool:
    """A plain paragraph that opens a plan part (下半年,我会将… / xx街道工会将始终坚持…)."""
    head = line[:40]
    return bool(_FUTURE.search(head)) or "将" in line[:15] or line.rstrip().endswith(("：", ":"))


def _parse(lines: list[str]) -> tuple[list[str], list[_Part]]:
    """Opening lines and the parts of a summary."""
    opening: list[str] = []
    parts: list[_Part] = []
    pending: list[str] = []  # plain paragraphs after the last heading

    def current() -> _Part | None:
        return parts[-1] if parts else None

    def flush_pending() -> None:
        part = current()
        if part is None:
            opening.extend(pending)
        elif part.nodes:
            target = part.nodes[-1].children[-1] if part.nodes[-1].children else part.nodes[-1]
            target.lines.extend(pending)
        else:
            part.intro.extend(pending)
        pending.clear()

    for line in lines:
        enum = _enumerator(line)
        part = current()
        if enum is None:
            if _is_part_marker(line) and (part is None or part.nodes):
                flush_pending()
                kind = "plan" if _FUTURE.search(line) else "topic"
                parts.append(_Part(kind=kind, marker=line))
            else:
                pending.append(line)
            continue
        style, ordinal = enum
        if part is None:
            flush_pending()
            part = _Part(kind="topic")
            parts.append(part)
        if style not in part.styles:
            # A style first seen at 1 after the body is under way, right after a plain
            # paragraph, starts a new part (003-12: the plan restarts at (一)).
            if ordinal == 1 and len(part.nodes) >= 2 and part.nodes[-1].children and pending:
                intro = pending[-1:] if _introduces_plan(pending[-1]) else []
                del pending[len(pending) - len(intro):]
                flush_pending()
                part = _Part(kind="plan", intro=intro)
                parts.append(part)
            part.styles.append(style)
        level = part.styles.index(style) + 1
        if level == 1 and part.nodes and ordinal == 1 and part.last_ordinal >= 2:
            # The level-1 numbering restarts: an unheaded plan (003-04).
            intro = pending[-1:] if pending and _introduces_plan(pending[-1]) else []
            del pending[len(pending) - len(intro):]
            flush_pending()
            part = _Part(kind="plan", intro=intro, styles=[style])
            parts.append(part)
        flush_pending()
        heading = _heading_of(line)
        if level == 1:
            part.last_ordinal = ordinal
            part.nodes.append(_Node(heading, [line], _heading_kind(heading, part.kind)))
        elif level == 2 and part.nodes:
            parent = part.nodes[-1]
            parent.children.append(_Node(heading, [line], _heading_kind(heading, parent.kind)))
        elif part.nodes:
            target = part.nodes[-1].children[-1] if part.nodes[-1].children else part.nodes[-1]
            target.lines.append(line)
        else:
            part.intro.append(line)
    flush_pending()
    return opening, parts


def _trailing_kind(line: str, is_last: bool) -> str | None:
    """problems/plan/closing for a paragraph that ends a part's last section, else None."""
    if _enumerator(line):
        return None
    if _PROBLEMS.search(line[:80]):
        return "problems"
    if _FUTURE.search(line[:20]):
        return "plan"
    if (is_last and _CLOSING.search(line)) or _SIGN_OFF.match(line):
        return "closing"
    return None


def _split_trailing(node: _Node, is_final: bool) -> list[tuple[str, list[str]]]:
    """Cut problems/plan/closing paragraphs off the end of a part's last node.

    Only a run of such paragraphs that reaches the end counts, and never the node's first
    line (its heading or its only paragraph).
    """
    owner = node.children[-1] if node.children else node
    body = owner.lines
    for start in range(1, len(body)):
        found = [_trailing_kind(line, is_final and i == len(body) - 1) for i, line in enumerate(body[start:], start)]
        kinds = [k for k in found if k is not None]
        if len(kinds) == len(found):
            trailing: list[tuple[str, list[str]]] = []
            for line, kind in zip(body[start:], kinds):
                if trailing and trailing[-1][0] == kind:
                    trailing[-1][1].append(line)
                else:
                    trailing.append((kind, [line]))
            del body[start:]
            return trailing
    return []


@dataclass
class _Group:
    """Lines that become one section (or several, when too long)."""

    kind: str
    headings: list[str]
    context: str
    lines: list[str]

    @property
    def size(self) -> int:
        return sum(map(len, self.lines))


def _node_groups(node: _Node, context: str) -> list[_Group]:
    """A level-1 node whole, or split into its level-2 children when too long."""
    if node.size <= MAX_CHARS or not node.children:
        return [_Group(node.kind, [node.heading], context, node.all_lines())]
    # The level-1 heading line and any intro go with the first child.
    return [
        _Group(child.kind, [child.heading], node.heading, (node.lines if i == 0 else []) + child.all_lines())
        for i, child in enumerate(node.children)
    ]


def _merge_small(groups: list[_Group]) -> list[_Group]:
    """Merge a group under MIN_CHARS into its predecessor of the same kind and context."""
    merged: list[_Group] = []
    for group in groups:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and (group.size < MIN_CHARS or prev.size < MIN_CHARS)
            and prev.size + group.size <= MAX_CHARS
            and (prev.kind, prev.context) == (group.kind, group.context)
        ):
            prev.headings += group.headings
            prev.lines += group.lines
        else:
            merged.append(group)
    return merged


def _chunks(lines: list[str]) -> list[list[str]]:
    """Greedy runs of lines of at most MAX_CHARS; an overlong line is cut at sentence ends."""
    pieces: list[str] = []
    for line in lines:
        if len(line) <= MAX_CHARS:
            pieces.append(line)
            continue
        buf = ""
        for sentence in re.findall(r"[^。！？!?；;]+[。！？!?；;]*", line):
            if buf and len(buf) + len(sentence) > MAX_CHARS:
                pieces.append(buf)
                buf = ""
            buf += sentence
        if buf:
            pieces.append(buf)
    runs: list[list[str]] = []
    size = 0
    for piece in pieces:
        if runs and size + len(piece) <= MAX_CHARS:
            runs[-1].append(piece)
            size += len(piece)
        else:
            runs.append([piece])
            size = len(piece)
    return runs


def _groups(lines: list[str]) -> list[_Group]:
    opening, parts = _parse(lines)
    groups: list[_Group] = []
    if opening and not parts:  # no headings at all: the first paragraph opens, the rest is body
        groups.append(_Group("opening", [""], "", opening[:1]))
        groups += [_Group("topic", [""], "", chunk) for chunk in _chunks(opening[1:])]
        return groups
    if opening:
        groups.append(_Group("opening", [""], "", opening))
    for p, part in enumerate(parts):
        trailing = _split_trailing(part.nodes[-1], p == len(parts) - 1) if part.nodes else []
        part_groups: list[_Group] = []
        if part.intro:
            kind = part.kind
            if not groups and kind == "topic":
                kind = "opening"  # 上半年工作总结 / its first paragraph: the summary's opening
            elif not _FUTURE.search(part.intro[0][:20]) and _PROBLEMS.search(part.intro[0][:80]):
                kind = "problems"  # 在总结成绩的同时，也必须看到…不足…下半年主要工作如下：
            part_groups.append(_Group(kind, [part.marker], "", ([part.marker] if part.marker else []) + part.intro))
        elif part.marker and part.nodes:  # the marker line goes with the part's first node
            part.nodes[0].lines.insert(0, part.marker)
        elif part.marker:
            part_groups.append(_Group(part.kind, [part.marker], "", [part.marker]))
        for node in part.nodes:
            part_groups += _node_groups(node, part.marker)
        part_groups += [_Group(kind, [""], "", chunk_lines) for kind, chunk_lines in trailing]
        groups += _merge_small(part_groups)
    return groups


def _section_topic(kind: str, heading: str, text: str) -> str:
    if kind == "problems":
        return PROBLEMS_TOPIC
    if kind in ("opening", "closing"):
        return GENERAL_TOPIC
    return topic_of(heading, text)


def split_summary(summary: Summary) -> list[Section]:
    """The sections of one summary, in text order."""
    lines = [line.strip() for line in summary.text.split("\n") if line.strip()]
    sections: list[Section] = []
    for group in _groups(lines):
        heading = "；".join(h for h in group.headings if h)
        for chunk in _chunks(group.lines):
            text = "\n".join(chunk)
            sections.append(
                Section(
                    summary_id=summary.id,
                    title=summary.title,
                    org_level=summary.org_level,
                    period=summary.period,
                    ordinal=len(sections),
                    kind=group.kind,
                    heading=heading,
                    context=group.context,
                    topic=_section_topic(group.kind, heading, text),
                    text=text,
                    quality=summary.quality,
                    source=summary.source,
                    owner=summary.owner,
                )
            )
    return sections
