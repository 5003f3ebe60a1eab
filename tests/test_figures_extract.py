"""Extraction: every numeric expression with its offsets, value, unit class, hedge and scale."""
from __future__ import annotations

from decimal import Decimal

import pytest

from drafting.checker import FACT, Figure, extract

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory


def facts_in(text: str) -> list[Figure]:
    return [f for f in extract(text) if f.cls == FACT]


def only_fact(text: str) -> Figure:
    figures = facts_in(text)
    assert len(figures) == 1, [(f.text, f.cls) for f in extract(text)]
    return figures[0]


@pytest.mark.parametrize(
    ("text", "span", "value", "unit", "hedge", "scale"),
    [
        ("建成8家企业工会", "8家", "8", "bodies", "", 1),
        ("发放宣传资料２０００份", "２０００份", "2000", "份", "", 1),
        ("累计金额2591637.10元", "2591637.10元", "2591637.10", "money", "", 1),
        ("捐款41,320元", "41,320元", "41320", "money", "", 1),
        ("完成财政划拨357.5万元", "357.5万元", "3575000", "money", "", 10**4),
        ("节电2.62亿kw/h", "2.62亿kw/h", "262000000", "kwh", "", 10**8),
        ("同比节水2253万m3", "2253万m3", "22530000", "m3", "", 10**4),
        ("总建筑面积10143.18㎡", "10143.18㎡", "10143.18", "m2", "", 1),
        ("占地11.5亩", "11.5亩", "11.5", "亩", "", 1),
        ("体检达三千四百人次", "三千四百人次", "3400", "person_times", "", 1),
        ("补助两百元", "两百元", "200", "money", "", 1),
        ("一千三百名职工", "一千三百名", "1300", "people", "", 1),
        ("发放慰问金三十万元", "三十万元", "300000", "money", "", 10**4),
        ("捐款额为一万元", "一万元", "10000", "money", "", 10**4),
        ("文体活动十余次", "十余次", "10", "events", "余", 1),
        ("新生代职工几十人次", "几十人次", "10", "person_times", "几", 1),
        ("慰问金达上百万元", "上百万元", "1000000", "money", "上", 10**4),
        ("送上百部影片", "上百部", "100", "部", "上", 1),
        ("近千名企业职工", "近千名", "1000", "people", "近", 1),
        ("两千多人受益", "两千多人", "2000", "people", "多", 1),
        ("已完成90多万元", "90多万元", "900000", "money", "多", 10**4),
        ("共发放帮扶慰问金30万多元", "30万多元", "300000", "money", "多", 10**4),
        ("组织近20万职工", "近20万职工", "200000", "people", "近", 10**4),
        ("7万余人参加", "7万余人", "70000", "people", "余", 10**4),
        ("总投资1700万元左右", "1700万元左右", "17000000", "money", "左右", 10**4),
        ("总投资1700万左右", "1700万左右", "17000000", "", "左右", 10**4),
        ("维权兑现金额约为28万元", "28万元", "280000", "money", "", 10**4),
        ("约3000人参加", "约3000人", "3000", "people", "约", 1),
        ("工会人数超300人", "超300人", "300", "people", "超", 1),
        ("人数超过300人", "超过300人", "300", "people", "超过", 1),
        ("参保人员不少于120名", "不少于120名", "120", "people", "不少于", 1),
        ("照顾长达八年多", "八年多", "8", "年", "多", 1),
        ("成立3个多月来", "3个多月", "3", "个月", "多", 1),
        ("完成任务的53.3%", "53.3%", "53.3", "percent", "", 1),
        ("签订率在90﹪以上", "90﹪以上", "90", "percent", "以上", 1),
        ("入会率92.5％", "92.5％", "92.5", "percent", "", 1),
        ("入会率达百分之五十三点三", "百分之五十三点三", "53.3", "percent", "", 1),
        ("比上年提高2.5个百分点", "2.5个百分点", "2.5", "points", "", 1),
        ("年仅38岁", "38岁", "38", "岁", "", 1),
        ("按市府104号文件", "104号", "104", "号", "", 1),
        ("每周 6 次", "6 次", "6", "events", "", 1),
    ],
)
def test_quantities(text: str, span: str, value: str, unit: str, hedge: str, scale: int) -> None:
    f = only_fact(text)
    assert f.text == span
    assert text[f.start:f.end] == span
    assert f.value == Decimal(value)
    assert (f.unit, f.hedge, f.scale) == (unit, hedge, scale)


@pytest.mark.parametrize(
    ("text", "span", "kind", "key"),
    [
        ("在5月5日召开", "5月5日", "date", ("date", 5, 5)),
        ("于12月19日下午", "12月19日", "date", ("date", 12, 19)),
        ("于5月5号召开", "5月5号", "date", ("date", 5, 5)),
        ("截至6月份", "6月份", "month", ("month", 6)),
        ("三月底,我们", "三月底", "month_part", ("mpart", 3, "底")),
        ("5月下旬,区总工会", "5月下旬", "month_part", ("mpart", 5, "下旬")),
        ("2019年度工会工作", "2019年度", "year", ("year", 2019)),
        ("08年已有", "08年", "year", ("year", 2008)),
        ("对全镇79年以来", "79年", "year", ("year", 1979)),
        ("二〇二三年", "二〇二三年", "year", ("year", 2023)),
        ("二○○八年", "二○○八年", "year", ("year", 2008)),
        ("2019年底", "2019年底", "year", ("year", 2019)),
        ("于19日召开", "19日", "day", ("day", 19)),
        ("第一季度发放", "第一季度", "ordinal", ("ord", "第", "季度", 1)),
    ],
)
def test_dates_and_years(text: str, span: str, kind: str, key: tuple) -> None:
    f = only_fact(text)
    assert (f.text, f.kind) == (span, kind)
    assert f.key == key


@pytest.mark.parametrize(
    ("text", "span", "lo", "hi", "unit"),
    [
        ("培育3-5家典型", "3-5家", 3, 5, "bodies"),
        ("每人每月补助150—200元", "150—200元", 150, 200, "money"),
        ("补助150元至200元", "150元至200元", 150, 200, "money"),
        ("组织了35至60名职工", "35至60名", 35, 60, "people"),
        ("联系1-2个社区", "1-2个", 1, 2, "bodies"),
        ("资助30-50万元", "30-50万元", 300000, 500000, "money"),
        ("增长30%-40%", "30%-40%", 30, 40, "percent"),
        ("两三个社区", "两三个", 2, 3, "bodies"),
        ("三五家企业", "三五家", 3, 5, "bodies"),
    ],
)
def test_numeric_ranges(text: str, span: str, lo: int, hi: int, unit: str) -> None:
    f = only_fact(text)
    assert (f.text, f.kind, f.unit) == (span, "range", unit)
    assert (f.value, f.value2) == (lo, hi)


@pytest.mark.parametrize(
    ("text", "span", "key"),
    [
        ("今年1-6月新增", "1-6月", ("range", ("month", 1), ("month", 6))),
        ("今年1-8月份以来", "1-8月份", ("range", ("month", 1), ("month", 8))),
        ("2月初-3月底会同人社局", "2月初-3月底", ("range", ("mpart", 2, "初"), ("mpart", 3, "底"))),
        ("5月5日至6日", "5月5日至6日", ("range", ("date", 5, 5), ("date", 5, 6))),
        ("2019-2020年", "2019-2020年", ("range", ("year", 2019), ("year", 2020))),
    ],
)
def test_date_ranges(text: str, span: str, key: tuple) -> None:
    f = only_fact(text)
    assert (f.text, f.key) == (span, key)


@pytest.mark.parametrize(
    ("text", "span", "kind", "key"),
    [
        ("按上级要求1:2配套", "1:2", "ratio", ("ratio", 1, 2)),
        ("按1：2配套", "1：2", "ratio", ("ratio", 1, 2)),
        ("占三分之一", "三分之一", "fraction", ("frac", 1, 3)),
        ("取得了第三名", "第三名", "ordinal", ("ord", "第", "名", 3)),
        ("团体总分第六名", "第六名", "ordinal", ("ord", "第", "名", 6)),
        ("荣获最佳展区一等奖", "一等奖", "prize", ("prize", "等奖", 1)),
        ("个人一等功", "一等功", "prize", ("prize", "等功", 1)),
        ("举办第二届农民工技能大赛", "第二届", "ordinal", ("ord", "第", "届", 2)),
        ("鸿丰集团举办了第11届比赛", "第11届", "ordinal", ("ord", "第", "届", 11)),
        ("街道首届腰鼓大赛", "首届", "ordinal", ("ord", "第", "届", 1)),
        ("竞赛前三名的奖励", "前三名", "ordinal", ("ord", "前", "名", 3)),
        ("召开区总工会三届二次全委会", "三届二次", "session", ("session", 3, 2, "次")),
        ("新区工会第三次代表大会", "第三次", "ordinal", ("ord", "第", "次", 3)),
    ],
)
def test_ratios_ordinals_prizes_sessions(text: str, span: str, kind: str, key: tuple) -> None:
    f = only_fact(text)
    assert (f.text, f.kind, f.key) == (span, kind, key)


def test_listed_prizes_share_the_measure_word() -> None:
    figures = facts_in("分获了二、三等奖和优秀奖")
    assert [(f.text, f.key) for f in figures] == [("二", ("prize", "等奖", 2)), ("三等奖", ("prize", "等奖", 3))]


def test_listed_numbers_share_the_unit() -> None:
    figures = facts_in("分别新建3、5、8家")
    assert [f.key for f in figures] == [("q", "bodies", 3), ("q", "bodies", 5), ("q", "bodies", 8)]


def test_offsets_index_the_original_text() -> None:
    text = "（一）截至６月底，新建工会１２家，会员达１０００余人，占９５％。"
    for f in extract(text):
        assert text[f.start:f.end] == f.text
    assert [f.text for f in facts_in(text)] == ["６月底", "１２家", "１０００余人", "９５％"]


def test_every_arabic_number_in_prose_is_found() -> None:
    text = "辖区企业3463,处理率达90,全院职工捐款达1310.00。"
    assert [(f.text, f.kind, f.unit) for f in facts_in(text)] == [
        ("3463", "bare", ""), ("90", "bare", ""), ("1310.00", "bare", ""),
    ]


def test_extract_returns_a_fresh_list() -> None:
    first = extract("新建工会8家")
    first.clear()
    assert len(extract("新建工会8家")) == 1
