from django.urls import path

from . import api, report_api

urlpatterns = [
    path("reports", report_api.ReportsView.as_view()),
    path("guilds/<id:guild_id>/moderation/thresholds", api.ThresholdsView.as_view()),
    path("guilds/<id:guild_id>/members/<id:user_id>/warnings", api.MemberWarningsView.as_view()),
    path("guilds/<id:guild_id>/automod/rules", api.AutomodRulesView.as_view()),
    path("guilds/<id:guild_id>/automod/rules/<id:rule_id>", api.AutomodRuleDetailView.as_view()),
]
