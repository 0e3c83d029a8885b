"""/api/v10/: gateway, the bot's user and application, guilds, channels, members and roles."""
from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.response import Response

from apps.chat.webhook_api import WebhookExecuteView
from apps.core.errors import Forbidden
from apps.guilds.selectors import (
    access_channel,
    access_guild,
    guild_permissions,
    guilds_of,
    member_in,
    members_of,
    roles_of,
)

from .. import selectors as bot_selectors
from . import reads, shapes
from .rest import UNKNOWN_GUILD, UNKNOWN_MEMBER, DiscordView, query_id, query_int

GATEWAY_PATH = "/gateway/discord"


def gateway_url(request) -> str:
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}{GATEWAY_PATH}"


class Gateway(DiscordView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def initial(self, request, *args, **kwargs):
        super(DiscordView, self).initial(request, *args, **kwargs)  # no bot, no bucket

    def get(self, request):
        return Response({"url": gateway_url(request)})


class GatewayBot(DiscordView):
    route = "gateway/bot"

    def get(self, request):
        return Response({"url": gateway_url(request), "shards": 1,
                         "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 86_400_000,
                                                 "max_concurrency": 1}})


class Me(DiscordView):
    route = "users/@me"

    def get(self, request):
        return Response(shapes.me(request.user, request.auth))


class MyGuilds(DiscordView):
    route = "users/@me/guilds"

    def get(self, request):
        limit = query_int(request, "limit", default=200, low=1, high=200)
        after = query_id(request, "after", default=0)
        out = []
        for guild in guilds_of(request.user).filter(id__gt=after).order_by("id")[:limit]:
            access = access_guild(request.user, guild.id)
            out.append(shapes.partial_guild(guild, guild_permissions(access.member)))
        return Response(out)


class MyApplication(DiscordView):
    route = "oauth2/applications/@me"

    def get(self, request):
        return Response(shapes.application(bot_selectors.application_of_bot(request.user)))


class GuildDetail(DiscordView):
    route, major, unknown = "guilds/{id}", "guild_id", UNKNOWN_GUILD

    def get(self, request, guild_id):
        return Response(reads.guild_object(access_guild(request.user, guild_id).member, full=False))


class GuildChannels(DiscordView):
    route, major, unknown = "guilds/{id}/channels", "guild_id", UNKNOWN_GUILD

    def get(self, request, guild_id):
        return Response(reads.channels_of(access_guild(request.user, guild_id).member))


class GuildRoles(DiscordView):
    route, major, unknown = "guilds/{id}/roles", "guild_id", UNKNOWN_GUILD

    def get(self, request, guild_id):
        guild = access_guild(request.user, guild_id).guild
        managed = reads.managed_role_ids(guild.id)
        return Response([shapes.role(r, managed=r.id in managed) for r in roles_of(guild)])


def _members_intent(request) -> None:
    if not request.auth.members_intent:
        raise Forbidden(gettext("Listing members needs the server members intent (Developers page)."),
                        code="missing_access")


class GuildMembers(DiscordView):
    route, major, unknown = "guilds/{id}/members", "guild_id", UNKNOWN_GUILD

    def get(self, request, guild_id):
        guild = access_guild(request.user, guild_id).guild
        _members_intent(request)
        limit = query_int(request, "limit", default=1, low=1, high=1000)
        after = query_id(request, "after", default=0)
        page = members_of(guild).filter(user_id__gt=after).order_by("user_id")[:limit]
        return Response([shapes.member(m) for m in page])


class GuildMember(DiscordView):
    route, major, unknown = "guilds/{id}/members/{user}", "guild_id", UNKNOWN_MEMBER

    def get(self, request, guild_id, user_id):
        guild = access_guild(request.user, guild_id).guild
        return Response(shapes.member(member_in(guild, user_id)))


class ChannelDetail(DiscordView):
    route, major = "channels/{id}", "channel_id"

    def get(self, request, channel_id):
        access = access_channel(request.user, channel_id)
        overwrites = access.channel.overwrites.select_related("role", "member") if access.channel.guild_id else ()
        return Response(shapes.channel(access.channel, list(overwrites)))


class WebhookExecute(WebhookExecuteView):
    """Discord's execute-webhook URL: SmaRTC's view (the same checks and send path), answering
    `?wait=true` with Discord's message shape, as Discord's webhook libraries read it. Like the rest
    of /api/v10/ it stays out of SmaRTC's own OpenAPI schema (docs/discord-compat.md covers it)."""

    schema = None

    def answer(self, msg) -> dict:
        return reads.message(msg, 0)
