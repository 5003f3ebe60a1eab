import pytest

from drafting.flow.request import (
    RequestError,
    build_request,
    decode_bytes,
    parse_facts_text,
    request_from_json,
    strip_bullet_marker,
)


def test_markers_are_stripped_but_decimals_kept():
    assert strip_bullet_marker("- 新建工会8家") == "新建工会8家"
    assert strip_bullet_marker("• 慰问") == "慰问"
    assert strip_bullet_marker("1. 慰问困难职工") == "慰问困难职工"
    assert strip_bullet_marker("2、发放慰问金") == "发放慰问金"
    assert strip_bullet_marker("1.5万元用于帮扶") == "1.5万元用于帮扶"
    assert strip_bullet_marker("(3) 开展培训") == "开展培训"


def test_headings_group_bullets_in_user_order():
    text = "开头一条\n\n# 帮扶\n- 慰问120户\n【组建】新建8家\n* 发展会员1200名\n"
    sections = parse_facts_text(text)
    assert [s.title for s in sections] == [None, "帮扶", "组建"]
    assert sections[0].facts == ["开头一条"]
    assert sections[1].facts == ["慰问120户"]
    assert sections[2].facts == ["新建8家", "发展会员1200名"]


def test_control_characters_are_removed():
    sections = parse_facts_text("慰问\x00120\u200b户\r\n新建8家")
    assert [f for s in sections for f in s.facts] == ["慰问120户", "新建8家"]


def test_empty_and_oversized_input_are_refused_in_chinese():
    with pytest.raises(RequestError, match="至少输入一条"):
        build_request("某街道总工会", "上半年", 2024, parse_facts_text("\n  \n# 只有标题\n"))
    with pytest.raises(RequestError, match="过长"):
        build_request("某街道总工会", "上半年", 2024, parse_facts_text("很" * 600))
    with pytest.raises(RequestError, match="单位名称"):
        build_request("", "上半年", 2024, parse_facts_text("新建8家"))
    with pytest.raises(RequestError, match="年份"):
        build_request("某工会", "上半年", "二〇二四", parse_facts_text("新建8家"))


def test_binary_and_gbk_bytes():
    with pytest.raises(RequestError, match="二进制"):
        decode_bytes(b"\x00\x01\x02PK\x03")
    assert decode_bytes("慰问120户".encode("gb18030")) == "慰问120户"
    assert decode_bytes("\ufeff慰问".encode()) == "慰问"


def test_request_from_json_shapes():
    r = request_from_json({"org": "某工会", "period": "全年", "year": "2023年", "facts": ["新建8家"]})
    assert r.year == 2023 and r.facts == ["新建8家"] and not r.has_user_headings
    r = request_from_json({"org": "某工会", "period": "上半年",
                           "sections": [{"title": "帮扶", "facts": ["慰问120户"]}]})
    assert r.has_user_headings and r.sections[0].title == "帮扶"
    assert r.field_texts() == ["某工会", "上半年"]
    with pytest.raises(RequestError):
        request_from_json({"org": "某工会", "period": "上半年", "facts": "not a list"})
