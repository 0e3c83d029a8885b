from django.urls import path

from . import views

app_name = "guilds"
urlpatterns = [
    path("explore", views.explore, name="explore"),
    path("invite/<str:code>", views.invite, name="invite"),
    path("guilds/new", views.guild_create, name="create"),
    path("guilds/<int:guild_id>", views.guild, name="guild"),
    path("guilds/<int:guild_id>/channels/<int:channel_id>", views.channel, name="channel"),
    path("guilds/<int:guild_id>/leave", views.guild_leave, name="leave"),
    path("guilds/<int:guild_id>/delete", views.guild_delete, name="delete"),
    path("guilds/<int:guild_id>/transfer", views.guild_transfer, name="transfer"),
    path("guilds/<int:guild_id>/settings", views.settings_overview, name="settings"),
    path("guilds/<int:guild_id>/settings/channels", views.settings_channels, name="settings_channels"),
    path("guilds/<int:guild_id>/settings/channels/<int:channel_id>", views.channel_edit, name="channel_edit"),
    path("guilds/<int:guild_id>/settings/channels/<int:channel_id>/move", views.channel_move, name="channel_move"),
    path("guilds/<int:guild_id>/settings/channels/<int:channel_id>/delete", views.channel_delete,
         name="channel_delete"),
    path("guilds/<int:guild_id>/settings/channels/<int:channel_id>/overwrites/delete", views.overwrite_delete,
         name="overwrite_delete"),
    path("guilds/<int:guild_id>/settings/categories/<int:category_id>/delete", views.category_delete,
         name="category_delete"),
    path("guilds/<int:guild_id>/settings/roles", views.settings_roles, name="settings_roles"),
    path("guilds/<int:guild_id>/settings/roles/<int:role_id>", views.role_edit, name="role_edit"),
    path("guilds/<int:guild_id>/settings/roles/<int:role_id>/move", views.role_move, name="role_move"),
    path("guilds/<int:guild_id>/settings/roles/<int:role_id>/delete", views.role_delete, name="role_delete"),
    path("guilds/<int:guild_id>/settings/members", views.settings_members, name="settings_members"),
    path("guilds/<int:guild_id>/settings/members/<int:user_id>", views.member_action, name="member_action"),
    path("guilds/<int:guild_id>/settings/invites", views.settings_invites, name="settings_invites"),
    path("guilds/<int:guild_id>/settings/audit-log", views.settings_audit_log, name="settings_audit_log"),
    path("guilds/<int:guild_id>/settings/invites/<str:code>/revoke", views.invite_revoke, name="invite_revoke"),
]
