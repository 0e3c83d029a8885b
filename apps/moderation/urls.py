from django.urls import path

from . import views

app_name = "moderation"
urlpatterns = [
    path("reports", views.my_reports, name="my_reports"),
    path("warnings/<id:warning_id>/seen", views.warning_seen, name="warning_seen"),
    path("guilds/<id:guild_id>/settings/members/<id:user_id>/warn", views.member_warn, name="member_warn"),
    path("guilds/<id:guild_id>/settings/moderation", views.settings_moderation, name="settings"),
    path("guilds/<id:guild_id>/settings/moderation/rules/<id:rule_id>/delete", views.rule_delete,
         name="rule_delete"),
]
