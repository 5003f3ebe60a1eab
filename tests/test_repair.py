"""Stage 6 on its own: the re-ask names each problem, a better answer is taken, and the
deterministic fallback removes what is still wrong and restates what is missing."""
from __future__ import annotations

from drafting.flow.check import check
from drafting.flow.events import SectionChecked, SectionRepaired
from drafting.flow.plan import OutlineSection
from drafting.flow.repair import check_and_repair, drop_problem_clauses
from tests.fakes import ScriptedModel

SECTION = OutlineSection("深化帮扶解困，用心服务职工群众",
                         ["春节走访慰问困难职工120户，发放慰问金36万元", "金秋助学资助困难职工子女15名"])
FIELDS = ["东湖街道总工会", "上半年", "2024年"]
GOOD = "春节走访慰问困难职工120户，发放慰问金36万元。金秋助学资助困难职工子女15名。"


def test_a_clean_section_is_left_alone() -> None:
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, SECTION, GOOD, FIELDS, 120)
    assert result.text == GOOD and not result.attempts and not model.prompts


def test_the_re_ask_names_each_problem_and_a_better_answer_is_taken() -> None:
    """Dropping the problems would leave a stub here (the first clause carries one), so the
    model is asked."""
    bad = "春节走访慰问困难职工150户，开展职工法律知识培训，发放慰问金36万元。"
    model = ScriptedModel(lambda p: GOOD)
    events: list = []
    result = check_and_repair(model, SECTION, bad, FIELDS, 120, on_event=events.append, index=2)
    problems = model.prompts[0].user
    assert "“150户”" in problems and "开展职工法律知识培训" in problems  # the figure and the invented work
    assert result.text == GOOD and result.attempts == [
        {"how": "model", "problems": result.attempts[0]["problems"], "accepted": True}]
    assert isinstance(events[0], SectionChecked) and events[0].index == 2 and not events[0].ok
    assert isinstance(events[-1], SectionRepaired) and events[-1].how == "model"


def test_an_invented_clause_is_dropped_without_a_model_call() -> None:
    bad = "春节走访慰问困难职工120户，发放慰问金36万元，同时开展职工法律知识培训。金秋助学资助困难职工子女15名。"
    model = ScriptedModel(lambda p: "不该被调用")
    events: list = []
    result = check_and_repair(model, SECTION, bad, FIELDS, 120, on_event=events.append)
    assert not model.prompts and result.text == GOOD
    assert [a["how"] for a in result.attempts] == ["drop"]
    assert isinstance(events[-1], SectionRepaired) and events[-1].how == "drop"
    # Switched off, the same text goes to the model first.
    asked = ScriptedModel(lambda p: GOOD)
    assert [a["how"] for a in check_and_repair(asked, SECTION, bad, FIELDS, 120, drop_first=False).attempts] \
        == ["model"] and asked.prompts


def test_the_fallback_drops_the_problems_and_restates_what_is_missing() -> None:
    stubborn = "春节走访慰问困难职工150户，开展职工法律知识培训，发放慰问金36万元。"
    model = ScriptedModel(lambda p: stubborn)  # repeats itself when asked to repair
    result = check_and_repair(model, SECTION, stubborn, FIELDS, 120)
    assert [a["how"] for a in result.attempts] == ["model", "fallback"]
    report = check(result.text, SECTION.facts, FIELDS, context=[SECTION.heading])
    assert report.ok and not report.missing, result.text
    assert "150户" not in result.text and "法律知识培训" not in result.text and "120户" in result.text


def test_a_problem_in_the_first_clause_takes_the_sentence_with_it() -> None:
    text = "另建工会99家，新建工会8家。发放慰问金36万元，涉及99户。"
    report = check(text, ["新建工会8家", "发放慰问金36万元"])
    assert drop_problem_clauses(text, report) == "发放慰问金36万元。"


def test_a_joining_word_after_a_dropped_clause_goes_with_it() -> None:
    text = "按照上级工会要求，开展职工法律知识培训99场，并新建工会8家。"
    report = check(text, ["按照上级工会要求，新建工会8家"])
    assert drop_problem_clauses(text, report) == "按照上级工会要求，新建工会8家。"


def test_a_means_frame_whose_clause_is_dropped_loses_its_tongguo() -> None:
    text = "一年来，街道工会通过开展献计献策活动，征集建议99条。"
    report = check(text, ["开展献计献策活动"])
    assert drop_problem_clauses(text, report) == "一年来，街道工会开展献计献策活动。"


def test_a_drop_that_takes_a_bullets_work_with_it_is_put_back_in_place_without_a_model_call() -> None:
    """The bullet is still "stated" by its other pieces, but the sentence with the 禁毒日 work
    opens on a wrong date: the drop alone would lose that work, so the fallback restates it from
    the bullet where the sentence stood (a re-ask cost 7–11 s and was refused in 3 of 4 cases)."""
    section = OutlineSection("开展劳动竞赛，提升职工队伍素质",
                             ["3月初发问卷摸培训意向，举办道德礼仪讲座；6.26在桂园路开展国际禁毒日宣传"])
    text = ("3月初发问卷摸培训意向，举办道德礼仪讲座。6月26日，在桂园路开展国际禁毒日宣传。"
            "工会动态在网站发布。")
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, section, text, FIELDS, 80)
    assert not model.prompts and [a["how"] for a in result.attempts] == ["fallback"]
    assert result.text == "3月初发问卷摸培训意向，举办道德礼仪讲座。6.26在桂园路开展国际禁毒日宣传。", result.text


def test_a_model_repair_that_leaves_out_a_piece_of_a_bullet_is_refused() -> None:
    """Held-out seed-003-06: the re-ask fixed the wrong date by leaving the 禁毒日 work out, and
    was taken because the bullet's other pieces still stated it."""
    section = OutlineSection("开展劳动竞赛，提升职工队伍素质",
                             ["3月初发问卷摸培训意向，举办道德礼仪讲座；6.26在桂园路开展国际禁毒日宣传"])
    text = "3月初发问卷摸培训意向，举办道德礼仪讲座。6月26日，在桂园路开展国际禁毒日宣传。"
    model = ScriptedModel(lambda p: "3月初发问卷摸培训意向，举办道德礼仪讲座。")
    result = check_and_repair(model, section, text, FIELDS, 80, drop_first=False)
    assert [(a["how"], a["accepted"]) for a in result.attempts] == [("model", False), ("fallback", True)]
    assert "6.26在桂园路开展国际禁毒日宣传" in result.text


def test_the_fallback_restates_the_bullet_work_a_dropped_sentence_took() -> None:
    section = OutlineSection("开展劳动竞赛，提升职工队伍素质",
                             ["3月初发问卷摸培训意向，举办道德礼仪讲座；6.26在桂园路开展国际禁毒日宣传"])
    text = "6月26日，在桂园路开展国际禁毒日宣传。3月初发问卷摸培训意向，举办道德礼仪讲座。"
    model = ScriptedModel(lambda p: text)  # repeats itself when asked to repair
    result = check_and_repair(model, section, text, FIELDS, 80, drop_first=False)
    assert [a["how"] for a in result.attempts] == ["model", "fallback"]
    # In place: the restatement stands where the dropped sentence stood, not after the rest.
    assert result.text == "6.26在桂园路开展国际禁毒日宣传。3月初发问卷摸培训意向，举办道德礼仪讲座。"


THIN = OutlineSection("丰富文体活动，增强工会组织凝聚力", ["办公室地点分散，日常锻炼分解到各部门组织，部门之间可集中进行"])


def test_a_repair_that_drops_a_bullet_is_refused_and_the_bullet_restated() -> None:
    """A bullet without figures has none to miss: an empty 'repair' had fewer problems and no
    missing figure, and was taken, and the section vanished (held-out seed-001-03)."""
    invented = "办公室地点分散，日常锻炼分解到各部门组织，部门之间可集中进行，并成立了职工健身俱乐部。"
    model = ScriptedModel(lambda p: "")
    result = check_and_repair(model, THIN, invented, FIELDS, 60, drop_first=False)  # straight to the model
    assert [a["how"] for a in result.attempts] == ["model", "fallback"] and not result.attempts[0]["accepted"]
    assert "日常锻炼分解到各部门组织" in result.text and "俱乐部" not in result.text


def test_a_bullet_the_model_left_out_is_restated_even_without_figures() -> None:
    text = "春节走访慰问困难职工120户，发放慰问金36万元。"
    section = OutlineSection(SECTION.heading, [*SECTION.facts[:1], "组织开展职工心理健康讲座"])
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, section, text, FIELDS, 120)
    assert not model.prompts and result.attempts[-1]["unstated"] == ["组织开展职工心理健康讲座"]
    assert result.text == text + "此外，组织开展职工心理健康讲座。"


def test_a_vague_quantity_no_bullet_uses_is_struck_and_the_work_kept() -> None:
    """Held-out seed-003-11: the bullet says 办一次 and the draft said 举办了多次…培训; the
    checker only warned, so the change from one to several reached the final draft."""
    section = OutlineSection("加强自身建设，提升工会工作水平", ["决算汇总率85%，工会经费申报率85%；办一次财务、经审干部培训"])
    text = "决算汇总率85%，工会经费申报率85%。此外，还举办了多次财务、经审干部的培训，开展了一系列的业务交流。"
    model = ScriptedModel(lambda p: "不该被调用")
    events: list = []
    result = check_and_repair(model, section, text, FIELDS, 120, on_event=events.append)
    assert "多次" not in result.text and "一系列" not in result.text and not model.prompts
    assert "举办了财务、经审干部的培训" in result.text and not result.report.warnings
    assert result.attempts[0]["how"] == "drop" and "多次" in result.attempts[0]["problems"][0]
    assert any(isinstance(e, SectionRepaired) and e.how == "drop" for e in events)
    # A vague word the bullets use stays.
    used = OutlineSection("开展劳动竞赛，提升职工队伍素质", ["多次组织职工技能比武"])
    assert check_and_repair(None, used, "我们多次组织职工技能比武。", FIELDS, 60).text == "我们多次组织职工技能比武。"


def test_a_bullet_clause_said_in_part_is_written_out_where_it_stands() -> None:
    """Held-out seed-003-11: the model wrote 参赛企业10家 without the contest's name, and the
    fallback used to add 此外，第十二届“安康杯”竞赛参赛企业10家 after it, stating 10家 twice."""
    section = OutlineSection("开展劳动竞赛，提升职工队伍素质", [
        "第十二届“安康杯”竞赛参赛企业10家；安全消防培训一次", "提合理化建议30条，完成技术攻关和新产品新技术开发应用2项"])
    text = "参赛企业共10家，安全消防培训一次。我会提合理化建议30条，并完成了技术攻关和新产品新技术开发应用。"
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, section, text, FIELDS, 120)
    assert result.text == ("第十二届“安康杯”竞赛参赛企业10家，安全消防培训一次。"
                           "我会提合理化建议30条，并完成技术攻关和新产品新技术开发应用2项。")
    assert result.text.count("10家") == 1 and not result.report.missing and not model.prompts


def test_a_completion_that_would_take_another_bullets_words_is_not_made() -> None:
    """Written out whole, 技师培养五年行动计划 would replace 和合理化建议 (another bullet's words):
    that bullet's figures are restated after the sentence instead."""
    section = OutlineSection("开展劳动竞赛", ["“技师培养五年行动计划”培养技师、技工各2名", "提合理化建议30条"])
    text = "我会按照“技师培养五年行动计划”和合理化建议，组织职工参加比赛。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert "“技师培养五年行动计划”和合理化建议" in result.text and not result.report.missing


def test_an_effect_no_bullet_holds_is_struck_and_the_work_stays() -> None:
    """Held-out seed-003-11 §5: the bullet says 办一次财务、经审干部培训; the model added what it
    achieved. The effects go without a model call; the work and the figures stay."""
    section = OutlineSection("加强自身建设，提升工会工作水平", ["决算汇总率85%，工会经费申报率85%；办一次财务、经审干部培训"])
    text = ("决算汇总率85%，工会经费申报率85%，确保了资金的合理使用和透明度。"
            "我们组织了一次财务、经审干部培训，提高了我们的业务能力和决策水平，增强了工会的工作效率和质量。")
    model = ScriptedModel(lambda p: "不该被调用")
    result = check_and_repair(model, section, text, FIELDS, 120)
    assert result.text == "决算汇总率85%，工会经费申报率85%。我们组织了一次财务、经审干部培训。"
    assert result.attempts[0]["how"] == "drop" and "确保了资金的合理使用和透明度" in result.attempts[0]["problems"][0]
    assert not model.prompts


def test_genre_effects_and_effects_the_bullets_hold_stay() -> None:
    section = OutlineSection("深化帮扶解困", ["慰问困难职工120户，提升职工幸福感"])
    text = "慰问困难职工120户，切实维护了职工合法权益，提升职工幸福感。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == text and not result.attempts


def test_a_bullet_clause_said_inside_a_longer_clause_is_written_out_whole() -> None:
    """Held-out seed-003-13 §4: 我们组织了“中国梦劳动美”职工文艺演出 without 7场 (the bullet writes
    中国梦 劳动美 with a space); the fallback used to add the bullet clause again after it. Here
    the verb differs too, so the match is inside the bullet clause and the draft's clause goes whole."""
    section = OutlineSection("丰富文体活动", ["组织“中国梦 劳动美”职工文艺演出7场"])
    text = "今年以来，我们开展了“中国梦劳动美”职工文艺演出，丰富了职工的精神文化生活。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == "今年以来，组织“中国梦劳动美”职工文艺演出7场，丰富了职工的精神文化生活。"


def test_a_clause_the_model_left_out_of_a_bullet_is_put_back_after_the_rest_of_it() -> None:
    """Held-out seed-003-11 §2: the model wrote 报送信息两篇 and 新增女职工专项集体合同10家 and left
    out the lectures and the training of the same bullet; the bullet still counted as stated, and
    nothing was repaired."""
    fact = "为女职工办法律和健康专题讲座，组织烹饪、家政、电脑技能培训；报送信息两篇；新增女职工专项集体合同10家"
    section = OutlineSection("依法履职维权", [fact, "召开联席会议2次"])
    text = "我们报送信息两篇，并新增了女职工专项集体合同10家。我们还召开了联席会议2次。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == ("我们报送信息两篇，并新增了女职工专项集体合同10家。为女职工办法律和健康专题讲座，"
                           "组织烹饪、家政、电脑技能培训。我们还召开了联席会议2次。")
    assert result.attempts[-1]["unstated"] == ["为女职工办法律和健康专题讲座", "组织烹饪、家政、电脑技能培训"]


def test_a_lead_in_the_model_left_out_goes_back_before_the_clause_it_leads_into() -> None:
    """Held-out seed-000-03 §1: the model wrote 监督处理劳资纠纷15件 without the bullet's lead-in,
    and the fallback restated the lead-in as a sentence of its own (…15件。按省市总工会劳资纠纷舆情要求。)."""
    section = OutlineSection("依法履职维权", ["部署工资集体协商，重点推动百人以上已建会企业",
                                             "按省市总工会劳资纠纷舆情要求，监督处理劳资纠纷15件"])
    text = "部署工资集体协商，重点推动百人以上已建会企业。我们监督处理劳资纠纷15件。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == "部署工资集体协商，重点推动百人以上已建会企业。按省市总工会劳资纠纷舆情要求，我们监督处理劳资纠纷15件。"


def test_a_clause_left_out_after_its_neighbour_goes_back_after_it() -> None:
    section = OutlineSection("帮扶解困", ["五月底走访在建工地，了解建筑工人薪资发放、食堂和宿舍卫生"])
    text = "五月底，我们走访了在建工地，关心建筑工人。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == "五月底，我们走访了在建工地，了解建筑工人薪资发放、食堂和宿舍卫生，关心建筑工人。"


def test_a_bullet_piece_before_its_colon_is_completed_in_place_rather_than_restated_whole() -> None:
    """Held-out seed-000-03 §1: 协同区卫生监督所检查…控制室 left out the date; the whole bullet was
    restated after it, so the inspection was told twice."""
    fact = ("4月28日会同区卫生监督所检查中金辐照公司车间和控制室：辐射安全培训资格证、放射人员职业健康检查、"
            "职业病防护、职业危害告知")
    section = OutlineSection("依法履职维权", [fact])
    text = ("我们协同区卫生监督所检查中金辐照公司车间和控制室，确保辐射安全培训资格证、放射人员职业健康检查、"
            "职业病防护和职业危害告知的落实。")
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == ("4月28日会同区卫生监督所检查中金辐照公司车间和控制室，确保辐射安全培训资格证、"
                           "放射人员职业健康检查、职业病防护和职业危害告知的落实。")


def test_a_quoted_name_the_model_left_out_goes_back_whole_before_its_colon() -> None:
    """Held-out seed-003-06: the bullet's “新工人、新市民 (cut at the comma inside the quotation)
    was restated with its quotation left open; taken with the activity as one clause, the name
    was lost, since the activity alone said most of that clause."""
    fact = "“新工人、新市民，大培训、大提升”：3月初发问卷摸培训和文体意向，办道德礼仪、养生、理财、安全生产讲座"
    section = OutlineSection("提升职工素质", [fact])
    text = "3月初，我们发出问卷摸培训和文体意向，举办道德礼仪、养生、理财、安全生产讲座。"
    result = check_and_repair(ScriptedModel(lambda p: "不该被调用"), section, text, FIELDS, 120)
    assert result.text == ("“新工人、新市民，大培训、大提升”：3月初，我们发出问卷摸培训和文体意向，"
                           "举办道德礼仪、养生、理财、安全生产讲座。")
