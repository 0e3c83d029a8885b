from django.urls import path

from . import views

app_name = "moderation"
urlpatterns = [
    path("reports", views.my_reports, name="my_reports"),
    path("warnings/<int:warning_id>/seen", views.warning_seen, name="warning_seen"),
    path("guilds/<int:guild_id>/settings/members/<int:user_id>/warn", views.member_warn, name="member_warn"),
    path("guilds/<int:guild_id>/settings/moderation", views.settings_moderation, name="settings"),
    path("guilds/<int:guild_id>/settings/moderation/rules/<int:rule_id>/delete", views.rule_delete,
         name="rule_delete"),
]
