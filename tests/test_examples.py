from drafting.examples import style_phrases


def test_style_phrases_keep_effects_and_drop_activities_figures_and_slots():
    masked = ("一、健全组织强化机制\n今年以来,我们开展了〔数〕场培训活动,增强工会的影响力、吸引力和凝聚力。"
              "组织职工参加“安康杯”竞赛,受到职工普遍欢迎;建立困难职工档案,有效维护职工合法权益。")
    phrases = style_phrases(masked)
    assert "增强工会的影响力、吸引力和凝聚力" in phrases
    assert "有效维护职工合法权益" in phrases
    assert not any("〔" in p or "开展" in p or "建立" in p or "安康杯" in p for p in phrases)
