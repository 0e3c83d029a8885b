from django.urls import path

from . import api

urlpatterns = [
    path("guilds/<int:guild_id>/moderation/thresholds", api.ThresholdsView.as_view()),
    path("guilds/<int:guild_id>/automod/rules", api.AutomodRulesView.as_view()),
    path("guilds/<int:guild_id>/automod/rules/<int:rule_id>", api.AutomodRuleDetailView.as_view()),
]
