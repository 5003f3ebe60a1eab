"""Classes (policy §5.1) and the hard cases of §5.2."""
from __future__ import annotations

import pytest

from drafting.checker import FACT, LEXICON, PLACEHOLDER, SOFT, STRUCTURE, extract

pytestmark = pytest.mark.usefixtures("data_dir")  # no user lexicon from the developer's data directory


def classes(text: str) -> list[tuple[str, str]]:
    return [(f.text, f.cls) for f in extract(text)]


def class_of(text: str, fragment: str) -> str | None:
    """The class of the figure whose text is `fragment` (None when no figure is exactly that)."""
    found = [f.cls for f in extract(text) if f.text == fragment]
    assert len(found) <= 1, classes(text)
    return found[0] if found else None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("一、上半年重点工作总结", "一、"),
        ("(三)农民工维权工作", "(三)"),
        ("（一）、继续深化帮扶工作", "（一）、"),
        ("1、加强宣传发动", "1、"),
        ("1.成功创建餐饮业", "1."),
        ("(2)完善制度", "(2)"),
        ("2 、开展活动", "2 、"),
        ("工作如下:1、加强宣传", "1、"),
        ("一是上半年,完成培训", "一是"),
        ("完成培训;二是牵头做好", "二是"),
        ("第一、积极开展扶贫攻坚工作", "第一、"),
        ("半年来,我会", "半年来"),
        ("一年来,我们", "一年来"),
        ("现将上半年工作总结如下", "上半年"),
        ("现将全年工作总结如下", "全年"),
        ("从三个方面做好工作", "三个方面"),
    ],
)
def test_structure(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == STRUCTURE


def test_structure_only_in_heading_or_list_position() -> None:
    assert class_of("1.5万元用于职工活动", "1.5万元") == FACT
    assert class_of("荣获二、三等奖", "三等奖") == FACT
    assert class_of("有1、2个社区", "1、") is None
    assert class_of("金牌数名列第一,实行服务", "第一") == FACT


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("深入学习贯彻党的十九大精神", "十九大"),
        ("学习党的二十大精神", "二十大"),
        ("十九届四中全会精神", "十九届四中"),
        ("学习二十届三中全会精神", "二十届三中"),
        ("四中全会和全总十七届三次执委会精神", "十七届三次"),
        ("全国总工会召开了十四届六次主席团会议", "十四届六次"),
        ("“三八”妇女节", "三八"),
        ("“三.八”妇女节", "三.八"),
        ("庆五·一劳动节", "五·一"),
        ("“五一”期间我们举办了比赛", "“五一”"),
        ("五一前夕", "五一"),
        ("“六一”儿童节", "六一"),
        ("中秋、国庆两节慰问", "两节"),
        ("“三月三”期间主办演出", "三月三"),
        ("结合“6.26”国际禁毒日", "6.26"),
        ("推进“5.1服务卡”工作", "5.1服务卡"),
        ("十一期间举办活动", "十一期间"),
        ("为推进“十三五”发展", "十三五"),
        ("深化“七五”普法工作", "“七五”普法"),
        ("以“三个代表”重要思想为指导", "三个代表"),
        ("坚决做到“两个维护”", "两个维护"),
        ("派出第一书记驻村", "第一书记"),
        ("建会第一责任人", "第一责任人"),
        ("慰问一线职工", "一线职工"),
        ("推进百人以上企业建会", "百人以上"),
        ("以世界500强单位为重点", "世界500强"),
        ("一手抓25人以下小型企业建会", "25人以下"),
        ("在324国道设立服务站", "324国道"),
        ("“京基100”假面魅影", "京基100"),
        ("涉及万象城的9家餐饮企业", "万象城"),
        ("种上百香果", "百香果"),
        ("丰富多样而不千篇一律", "千篇一律"),
        ("第九套广播操师资培训", "第九套广播操"),
        ("三星重工业高原", "三星重工"),
        ("“7+1”的管理格局", "7+1"),
        ("开展工会活力“6+1”活动", "6+1"),
        ("职工互助医疗保险和二次医保", "二次医保"),
        ("已建立“一户一策”帮扶计划", "一户一策"),
        ("打赢四场硬仗", "四场硬仗"),
        ("“三有”工会", "三有"),
    ],
)
def test_lexicon(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == LEXICON, classes(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("召开区总工会三届二次全委会", "三届二次"),
        ("落实了县总七届二十三次全委会精神", "七届二十三次"),
        ("召开了市工会二届四次委员(扩大)会议", "二届四次"),
        ("县委十三届九次全委会", "十三届九次"),
        ("新区工会第三次代表大会", "第三次"),
        ("取得团体第一名", "第一名"),
        ("团体总分第六名", "第六名"),
        ("立个人一等功", "一等功"),
        ("荣获第二届比赛冠军", "第二届"),
        ("街道首届腰鼓大赛", "首届"),
        ("竞赛前三名", "前三名"),
        ("救助资金6.26万元", "6.26万元"),
        ("于三月三日召开", "三月三日"),
        ("增长5.1%", "5.1%"),
        ("“三有”工会145家", "145家"),
        ("两个乡镇", "两个"),
        ("三期培训班", "三期"),
        ("四位同志", "四位"),
        ("慰问困难职工1000多人", "1000多人"),
        ("发放1名", "1名"),
        ("占百分之一", "百分之一"),
        ("共开展活动“99场”", "99场"),
        ('发放慰问金"36万元"', "36万元"),
    ],
)
def test_fact(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == FACT, classes(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("举办一次工会安全生产培训", "一次"),
        ("涌现出一批先进劳模", "一批"),
        ("设立一个工作站", "一个"),
        ("指派了一名副主席", "一名"),
        ("组织全院职工多次为灾区捐款", "多次"),
        ("开展了一系列活动", "一系列"),
        ("若干意见", "若干"),
        ("首次出现了私营企业代表队", "首次"),
        ("按“65432”要求落实", "65432"),
        ("围绕市建设“六个年”", "六个"),
        ("“第二届工会杯”等活动", "第二届"),
    ],
)
def test_soft(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == SOFT, classes(text)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("20xx年上半年", "20xx"),
        ("XX年度", "XX"),
        ("培训了xx名调解员", "xx"),
        ("**区总工会", "**"),
        ("__年春节", "__"),
        ("截止2x14年6月底", "2x14"),
        ("受惠金额x。xx万元", "x。xx万元"),
        ("201*年", "201*"),
        ("~年的工作", "~"),
        ("二0__年", "二0__"),
        ("讲座ZZ场", "ZZ"),
        ("20××年", "20××"),
        ("发放慰问金万元", "万元"),
        ("4月日,县总工会召开", "日"),
        ("各街道总工会举办了次安全生产培训", "次"),
        ("春节期间走访了户困难职工", "户"),
        ("“”活动", "“”"),
        ("**000元", "**000"),
    ],
)
def test_placeholder(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == PLACEHOLDER, classes(text)


def test_masked_digits_next_to_a_placeholder_are_not_a_figure() -> None:
    assert [c for _, c in classes("**000元")] == [PLACEHOLDER]
    assert [f.text for f in extract("**份重点企业…涉及企业480家") if f.cls == FACT] == ["480家"]


@pytest.mark.parametrize(
    "text",
    ["统一组织", "进一步加强", "十分重视", "大家一起", "百姓", "千万不要", "一方面加强宣传", "另一方面加大培育",
     "三星级", "四都镇", "七彩梦夏令营", "二公司、三公司", "涞源六公司"],
)
def test_ordinary_words_hold_no_fact(text: str) -> None:
    assert not [f for f in extract(text) if f.cls in (FACT, SOFT)], classes(text)


@pytest.mark.parametrize(("text", "fragment"), [("5G基站", "5"), ("通过iso9000认证", "9000"), ("hfc-134a开工", "134")])
def test_alphanumeric_codes_are_not_facts(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == LEXICON


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("辖区企业3463,其中", "3463"), ("处理率达90。", "90"), ("捐款达1310.00。", "1310.00"),
     ("募捐特殊会费64228.5万元", "64228.5万元"), ("理赔6余人次", "6余人次"), ("理赔金额5183万余元", "5183万余元"),
     ("开展了2003、XX年度职工", "2003")],
)
def test_broken_source_numbers_stay_facts(text: str, fragment: str) -> None:
    assert class_of(text, fragment) == FACT, classes(text)


def test_names_with_countable_numerals_are_facts_to_be_found_in_the_input() -> None:
    # Deliberately FACT (not LEXICON): a draft may name them only when the bullets do.
    assert class_of("pvc车间聚合四班", "四班") == FACT
    assert class_of("思想工作组2组组长", "2组") == FACT
    assert class_of("群山屯20队", "20队") == FACT
