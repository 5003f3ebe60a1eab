"""Stage 2 — plan: an outline of sections, each with the bullets it must state.

User headings win, in the user's order. Without them, bullets are grouped by topic and the
groups ordered as past summaries order them (organisation first, the union's own work and
central tasks last). 存在的问题 and 下半年计划 sections exist only when the user gave bullets
for them. The outline is plain data so that the page can show it and let the user edit it.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from drafting.flow.request import DraftRequest


@dataclass(frozen=True)
class Topic:
    key: str
    heading: str
    keywords: tuple[str, ...]
    kind: str = "topic"


# Corpus order (corpus-and-numbers.md §4); headings are 公文-style slogan pairs without figures.
TOPICS: tuple[Topic, ...] = (
    Topic("organise", "加强组织建设，夯实工会工作基础",
          ("建会", "入会", "组建", "会员", "新建", "换届", "基层工会", "联合会", "覆盖", "工会组织")),
    Topic("rights", "依法履职维权，构建和谐劳动关系",
          ("维权", "集体合同", "集体协商", "工资", "职代会", "厂务公开", "劳动争议", "法律", "调解", "欠薪", "普法",
           "劳动保护", "安全生产", "职业病", "职业健康", "工伤", "劳资")),
    Topic("help", "深化帮扶解困，用心服务职工群众",
          ("帮扶", "送温暖", "慰问", "困难", "救助", "助学", "金秋", "清凉", "互助", "大病", "走访", "关爱", "帮困")),
    Topic("skills", "开展劳动竞赛，提升职工队伍素质",
          ("竞赛", "比武", "技能", "培训", "劳模", "工匠", "先锋号", "安康杯", "创新", "合理化建议", "素质")),
    Topic("culture", "丰富文体活动，增强工会组织凝聚力",
          ("文体", "运动会", "比赛", "文艺", "演出", "读书", "健步", "球", "活动", "书画", "摄影")),
    Topic("women", "做好女职工工作，维护女职工特殊权益",
          ("女职工", "三八", "妇女", "母婴", "女工")),
    Topic("self", "加强自身建设，提升工会工作水平",
          ("经费", "经审", "财务", "税务代收", "干部", "宣传", "信息", "作风", "学习", "自身建设")),
    Topic("centre", "围绕中心服务大局，助力经济社会发展",
          ("中心工作", "疫情", "扶贫", "乡村振兴", "招商", "创城", "文明", "防控", "拆迁")),
    Topic("problems", "存在的问题和不足", ("问题", "不足", "差距", "短板", "薄弱", "有待"), kind="problems"),
    Topic("plan", "下一步工作打算", ("下半年", "明年", "下一步", "打算", "力争"), kind="plan"),
)
_BY_KEY = {t.key: t for t in TOPICS}
_ORDER = {t.key: i for i, t in enumerate(TOPICS)}
DEFAULT_TOPIC = "centre"


@dataclass
class OutlineSection:
    heading: str
    facts: list[str]
    kind: str = "topic"  # topic / problems / plan
    topic: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def own_topic(self) -> str | None:
        """The topic whose own heading this section carries; None under a heading of the user's,
        which names whatever the user meant."""
        known = _BY_KEY.get(self.topic or "")
        return self.topic if known is not None and known.heading == self.heading else None


@dataclass
class Outline:
    title: str
    sections: list[OutlineSection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "sections": [s.to_dict() for s in self.sections]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outline:
        return cls(title=data["title"], sections=[OutlineSection(**s) for s in data["sections"]])


# A bullet the clerk opened with 下半年： or 不足： says itself where it belongs.
_LEAD_KIND = (
    (re.compile(r"^(?:下半年|下一步|明年|来年|今后|新的一年)(?:工作)?(?:计划|打算|安排)?[:：，,]"), "plan"),
    (re.compile(r"^(?:存在的?)?(?:问题|不足|差距)(?:和不足|与不足)?[:：，,]"), "problems"),
)
# Tense: a plan says what will be done; finished work says what was. 计划 alone is often a noun
# (帮扶计划, 医疗保障计划), and 继续/进一步 open done work as often as plans.
_FUTURE = re.compile(r"^(?:下半年|下一步|明年|来年|今后|新的一年)|将(?:继续|进一步|着力|重点|全面|积极|认真|开展|组织|举办|推进|加强|做好)"
                     r"|计划(?:于|在|开展|举办|组织|年内|年底)|拟(?:于|在|开展|举办|组织)|力争|打算|争取年内|年内(?:完成|建成|实现)")
_DONE = re.compile(r"已|完成了|共[计有]?|累计|截至|截止|荣获|获得|被评为|评出|举办了|开展了|组织了")
_SHORTCOMING = re.compile(r"不足|有待|不够|薄弱|差距|欠缺|滞后|不到位|不健全|不平衡|不适应|不相适应")
# A neighbour vote of score 1 counts 0.3 of a keyword hit: on the labelled corpus set (evals.placement)
# 0.3 placed 55.5% against 53.7% at 1.0 and 45.4% with keywords alone; the votes mostly break ties.
NEIGHBOUR_WEIGHT = 0.3
Votes = Callable[[str], dict[str, float]]


def fact_kind(fact: str) -> str:
    """plan, problems or topic (done work), from the clerk's lead word or the bullet's tense."""
    text = fact.strip()
    for lead, kind in _LEAD_KIND:
        if lead.match(text):
            return kind
    if _SHORTCOMING.search(text) and not re.search(r"\d", text):
        return "problems"
    if _FUTURE.search(text) and not _DONE.search(text):
        return "plan"
    return "topic"


def classify_fact(fact: str, votes: Votes | None = None) -> str:
    """The topic key for a bullet: its kind when it is a plan or a shortcoming, else the topic
    whose keywords it names most, with the topics of the nearest past sections (`votes`) added."""
    kind = fact_kind(fact)
    if kind != "topic":
        return kind
    scores: dict[str, float] = {}
    for topic in TOPICS:
        if topic.kind == "topic":
            scores[topic.key] = float(sum(1 for kw in topic.keywords if kw in fact))
    for key, weight in (votes(fact) if votes else {}).items():
        if key in scores:
            scores[key] += NEIGHBOUR_WEIGHT * weight
    best = max(scores, key=lambda k: (scores[k], -_ORDER[k]))
    return best if scores[best] > 0 else DEFAULT_TOPIC


def title_for(request: DraftRequest) -> str:
    year = f"{request.year}年" if request.year else ""
    period = "" if request.period in ("全年", "年度") else request.period
    return f"{request.org}{year}{period}工作总结"


def plan(request: DraftRequest, votes: Votes | None = None) -> Outline:
    """The outline; `votes` gives, for a bullet, the topics of the nearest labelled past
    sections (retrieval), which refine the keyword match."""
    outline = Outline(title=title_for(request))
    if request.has_user_headings:
        for section in request.sections:
            if not section.facts:
                continue
            heading = section.title or "其他工作"
            key = classify_fact(heading + " " + " ".join(section.facts), votes)
            outline.sections.append(OutlineSection(heading=heading, facts=list(section.facts),
                                                   kind=_BY_KEY[key].kind, topic=key))
        return outline
    groups: dict[str, list[str]] = {}
    for fact in request.facts:
        groups.setdefault(classify_fact(fact, votes), []).append(fact)
    for key in sorted(groups, key=_ORDER.__getitem__):
        topic = _BY_KEY[key]
        outline.sections.append(OutlineSection(heading=topic.heading, facts=groups[key], kind=topic.kind, topic=key))
    return outline
