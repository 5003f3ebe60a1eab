from drafting.flow.retrieve import style_phrases


def test_style_phrases_keep_effects_and_drop_activities_figures_and_slots():
    masked = ("一、健全组织强化机制\n今年以来,我们开展了〔数〕场培训活动,增强工会的影响力、吸引力和凝聚力。"
              "组织职工参加“安康杯”竞赛,受到职工普遍欢迎;建立困难职工档案,有效维护职工合法权益。")
    phrases = style_phrases(masked)
    assert "增强工会的影响力、吸引力和凝聚力" in phrases
    assert "有效维护职工合法权益" in phrases
    assert not any("〔" in p or "开展" in p or "建立" in p or "安康杯" in p for p in phrases)


def test_style_phrases_are_few_and_never_point_at_the_example():
    masked = "保障了该农民工的合法权益,增强了他们的调解能力,有效维护职工合法权益,切实增强工会凝聚力,进一步提升服务水平,推动工作全面展开。"
    assert style_phrases(masked) == ["有效维护职工合法权益", "切实增强工会凝聚力", "进一步提升服务水平"]  # the first three
    assert style_phrases(masked, limit=2) == ["有效维护职工合法权益", "切实增强工会凝聚力"]  # the deictic two left out


def test_style_phrases_leave_out_another_bodys_story_unless_the_bullets_share_it():
    masked = "村容村貌和人居环境得到了较大改善,维护职工队伍和社会稳定,取得了很好的成效。"
    assert style_phrases(masked) == ["维护职工队伍和社会稳定", "取得了很好的成效"]
    assert "村容村貌和人居环境得到了较大改善" in style_phrases(masked, "开展村容村貌整治，改善人居环境")


def test_a_clause_that_leads_into_another_is_not_a_closing_phrase():
    """held-out seed-004-03 §1 ended …夯实工会工作基础，围绕增强基层工会活力。"""
    masked = "围绕增强基层工会活力,为提升职工素质,有效维护职工合法权益。"
    assert style_phrases(masked) == ["有效维护职工合法权益"]
