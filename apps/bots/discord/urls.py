"""/api/v10/: the Discord-compatible REST routes (Discord's paths, without trailing slashes)."""
from django.urls import path

from . import messages as m
from . import moderation as mod
from . import views as v

urlpatterns = [
    path("gateway", v.Gateway.as_view()),
    path("gateway/bot", v.GatewayBot.as_view()),
    path("users/@me", v.Me.as_view()),
    path("users/@me/guilds", v.MyGuilds.as_view()),
    path("users/@me/channels", mod.DirectChannels.as_view()),
    path("users/<id:user_id>", mod.UserDetail.as_view()),
    path("oauth2/applications/@me", v.MyApplication.as_view()),
    path("applications/@me", v.MyApplication.as_view()),
    path("guilds/<id:guild_id>", v.GuildDetail.as_view()),
    path("guilds/<id:guild_id>/channels", v.GuildChannels.as_view()),
    path("guilds/<id:guild_id>/roles", v.GuildRoles.as_view()),
    path("guilds/<id:guild_id>/members", v.GuildMembers.as_view()),
    path("guilds/<id:guild_id>/members/<id:user_id>", mod.Member.as_view()),
    path("guilds/<id:guild_id>/members/<id:user_id>/roles/<id:role_id>", mod.MemberRole.as_view()),
    path("guilds/<id:guild_id>/bans/<id:user_id>", mod.Ban.as_view()),
    path("channels/<id:channel_id>", v.ChannelDetail.as_view()),
    path("channels/<id:channel_id>/messages", m.Messages.as_view()),
    path("channels/<id:channel_id>/messages/pins", m.Pins.as_view(items=True)),
    path("channels/<id:channel_id>/messages/pins/<id:message_id>", m.Pin.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>", m.MessageDetail.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>/reactions/<str:emoji>/@me", m.OwnReaction.as_view()),
    path("channels/<id:channel_id>/pins", m.Pins.as_view()),
    path("channels/<id:channel_id>/pins/<id:message_id>", m.Pin.as_view()),
    path("channels/<id:channel_id>/typing", m.Typing.as_view()),
    path("webhooks/<id:webhook_id>/<str:token>", v.WebhookExecute.as_view()),
]
