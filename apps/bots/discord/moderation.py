"""/api/v10/ routes that change members, as role pickers and moderation bots use them: give and take
a role, kick, ban and unban; and a DM opened by the bot. Each goes through the service a member's
click goes through (permissions, role hierarchy, audit log with the reason discord.py sends in
X-Audit-Log-Reason)."""
from __future__ import annotations

from urllib.parse import unquote

from django.utils.translation import gettext
from rest_framework.response import Response

from apps.accounts.selectors import user_by_id
from apps.core.errors import ValidationFailed
from apps.dms import services as dms
from apps.guilds import sanctions
from apps.guilds import services as guilds
from apps.guilds.selectors import access_guild, member_in, role_in

from . import shapes
from .rest import DiscordView
from .views import GuildMember

UNKNOWN_ROLE, UNKNOWN_USER, UNKNOWN_BAN = 10011, 10013, 10026


def _reason(request) -> str:
    """The audit-log reason Discord clients send URL-encoded in a header (at most 512 characters)."""
    return unquote(request.headers.get("X-Audit-Log-Reason", ""))[:512]


def _guild(request, guild_id):
    return access_guild(request.user, guild_id).guild


class MemberRole(DiscordView):
    """PUT/DELETE /guilds/{id}/members/{user}/roles/{role}: `member.add_roles` / `remove_roles`."""

    route, major, unknown = "guilds/{id}/members/{user}/roles/{role}", "guild_id", UNKNOWN_ROLE

    def put(self, request, guild_id, user_id, role_id):
        guild = _guild(request, guild_id)
        guilds.assign_role(actor=request.user, member=member_in(guild, user_id), role=role_in(guild, role_id))
        return Response(status=204)

    def delete(self, request, guild_id, user_id, role_id):
        guild = _guild(request, guild_id)
        guilds.remove_role(actor=request.user, member=member_in(guild, user_id), role=role_in(guild, role_id))
        return Response(status=204)


class Member(GuildMember):
    """GET (views.GuildMember) and DELETE /guilds/{id}/members/{user}: `member.kick`."""

    def delete(self, request, guild_id, user_id):
        guild = _guild(request, guild_id)
        sanctions.kick_member(actor=request.user, member=member_in(guild, user_id), reason=_reason(request))
        return Response(status=204)


class Ban(DiscordView):
    """PUT/DELETE /guilds/{id}/bans/{user}: `guild.ban` (with `delete_message_seconds`, whole days
    of up to 7 here) and `guild.unban`."""

    route, major, unknown = "guilds/{id}/bans/{user}", "guild_id", UNKNOWN_BAN

    def put(self, request, guild_id, user_id):
        guild = _guild(request, guild_id)
        data = request.data if isinstance(request.data, dict) else {}
        seconds = data.get("delete_message_seconds", 0)
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 0 <= seconds <= 7 * 86400:
            raise ValidationFailed.field("delete_message_seconds", gettext("Between 0 and 604800 seconds."))
        self.unknown = UNKNOWN_USER  # a user id that names nobody
        user = user_by_id(user_id)
        self.unknown = UNKNOWN_BAN
        sanctions.ban_member(actor=request.user, guild=guild, user=user, reason=_reason(request),
                             delete_message_days=-(-seconds // 86400))  # the days it reaches into
        return Response(status=204)

    def delete(self, request, guild_id, user_id):
        guild = _guild(request, guild_id)
        sanctions.unban_member(actor=request.user, guild=guild, user=user_by_id(user_id))
        return Response(status=204)


class UserDetail(DiscordView):
    """GET /users/{id}: `bot.fetch_user`."""

    route, unknown = "users/{id}", UNKNOWN_USER

    def get(self, request, user_id):
        return Response(shapes.user(user_by_id(user_id)))


class DirectChannels(DiscordView):
    """POST /users/@me/channels {"recipient_id"}: `user.send` opens (or finds) the DM first."""

    route, unknown = "users/@me/channels", UNKNOWN_USER

    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        recipient = data.get("recipient_id")
        if isinstance(recipient, str) and recipient.isascii() and recipient.isdigit():
            recipient = int(recipient)  # Discord's ids are strings; discord.py sends a number
        channel, _ = dms.open_dm(user=request.user, recipient_id=recipient)
        return Response(shapes.dm_channel(channel, viewer_id=request.user.id))
