from django.urls import path

from . import api

urlpatterns = [
    path("guilds", api.GuildListView.as_view()),
    path("guilds/<id:guild_id>", api.GuildDetailView.as_view()),
    path("guilds/<id:guild_id>/transfer", api.GuildTransferView.as_view()),
    path("guilds/<id:guild_id>/permissions", api.GuildPermissionsView.as_view()),
    path("guilds/<id:guild_id>/channels", api.GuildChannelsView.as_view()),
    path("guilds/<id:guild_id>/categories", api.GuildCategoriesView.as_view()),
    path("guilds/<id:guild_id>/roles", api.RoleListView.as_view()),
    path("guilds/<id:guild_id>/roles/<id:role_id>", api.RoleDetailView.as_view()),
    path("guilds/<id:guild_id>/members", api.MemberListView.as_view()),
    path("guilds/<id:guild_id>/members/@me", api.LeaveGuildView.as_view()),
    path("guilds/<id:guild_id>/members/search", api.MemberSearchView.as_view()),
    path("guilds/<id:guild_id>/members/<id:user_id>", api.MemberDetailView.as_view()),
    path("guilds/<id:guild_id>/members/<id:user_id>/timeout", api.MemberTimeoutView.as_view()),
    path("guilds/<id:guild_id>/bans", api.BanListView.as_view()),
    path("guilds/<id:guild_id>/bans/<id:user_id>", api.BanDetailView.as_view()),
    path("guilds/<id:guild_id>/invites", api.GuildInvitesView.as_view()),
    path("guilds/<id:guild_id>/audit-log", api.AuditLogView.as_view()),
    path("guilds/<id:guild_id>/audit-log/export", api.AuditLogExportView.as_view()),
    path("categories/<id:category_id>", api.CategoryDetailView.as_view()),
    path("channels/<id:channel_id>", api.ChannelDetailView.as_view()),
    path("channels/<id:channel_id>/permissions", api.ChannelPermissionsView.as_view()),
    path("channels/<id:channel_id>/overwrites", api.OverwriteListView.as_view()),
    path("channels/<id:channel_id>/overwrites/<str:target_type>/<id:target_id>", api.OverwriteDetailView.as_view()),
    path("invites/<str:code>", api.InviteDetailView.as_view()),
    path("invites/<str:code>/accept", api.InviteAcceptView.as_view()),
    path("explore", api.ExploreView.as_view()),
]
