"""The guilds REST API: thin doors — parse, access, call a service, serialize."""
import csv
import io
import json
from datetime import timedelta

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema
from rest_framework import renderers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.selectors import user_by_id
from apps.core.api import NO_CONTENT, validated, validated_query
from apps.core.errors import NotFound, ValidationFailed
from apps.core.pagination import IdCursorPagination, NewestFirstPagination, paginated

from . import invites, payloads, sanctions, selectors, services
from . import serializers as s
from .models import Category
from .permissions import Permission


def _category(guild, category_id):
    if category_id is None:
        return None
    try:
        return selectors.category_in(guild, category_id)
    except NotFound:
        raise ValidationFailed.field("category_id", gettext("Unknown category in this guild.")) from None


# --- guilds ---

class GuildListView(APIView):
    pagination_class = IdCursorPagination

    @extend_schema(responses=s.GuildOut(many=True), summary="Guilds I am a member of")
    def get(self, request):
        return paginated(self, request, selectors.guilds_of(request.user).order_by("id"), s.GuildOut)

    @extend_schema(request=s.GuildIn, responses={201: s.GuildOut}, summary="Create a guild (you own it)")
    def post(self, request):
        guild = services.create_guild(owner=request.user, **validated(s.GuildIn, request.data))
        return Response(s.GuildOut(guild).data, status=status.HTTP_201_CREATED)


class GuildDetailView(APIView):
    @extend_schema(responses=s.GuildOut)
    def get(self, request, guild_id):
        return Response(s.GuildOut(selectors.access_guild(request.user, guild_id).guild).data)

    @extend_schema(request=s.GuildPatch, responses=s.GuildOut, summary="Edit a guild (MANAGE_GUILD)")
    def patch(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        guild = services.update_guild(actor=request.user, guild=access.guild, **validated(s.GuildPatch, request.data))
        return Response(s.GuildOut(guild).data)

    @extend_schema(responses=NO_CONTENT, summary="Delete a guild (owner only)")
    def delete(self, request, guild_id):
        services.delete_guild(actor=request.user, guild=selectors.access_guild(request.user, guild_id).guild)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GuildTransferView(APIView):
    @extend_schema(request=s.TransferIn, responses=s.GuildOut, summary="Transfer ownership (owner only)")
    def post(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        new_owner = selectors.member_in(access.guild, validated(s.TransferIn, request.data)["owner_id"]).user
        guild = services.transfer_ownership(actor=request.user, guild=access.guild, new_owner=new_owner)
        return Response(s.GuildOut(guild).data)


class GuildPermissionsView(APIView):
    @extend_schema(responses=s.PermissionsOut, summary="My permissions in a guild")
    def get(self, request, guild_id):
        perms = selectors.access_guild(request.user, guild_id).permissions
        return Response(payloads.permissions(perms))


class ExploreView(APIView):
    permission_classes = [AllowAny]
    pagination_class = NewestFirstPagination

    @extend_schema(responses=s.GuildOut(many=True), summary="Guilds listed on Explore")
    def get(self, request):
        query = request.query_params.get("q", "")[:100]
        return paginated(self, request, selectors.discoverable_guilds(query).order_by("-id"), s.GuildOut)


# --- channels and categories ---

class GuildChannelsView(APIView):
    @extend_schema(responses=s.ChannelOut(many=True), summary="Channels I can view, in order")
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        return Response(s.ChannelOut([c for c, _ in selectors.visible_channels(access.member)], many=True).data)

    @extend_schema(request=s.ChannelIn, responses={201: s.ChannelOut}, summary="Create a channel (MANAGE_CHANNELS)")
    def post(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        data = validated(s.ChannelIn, request.data)
        data["category"] = _category(access.guild, data.pop("category_id"))
        channel = services.create_channel(actor=request.user, guild=access.guild, **data)
        return Response(s.ChannelOut(channel).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ChannelPosition(many=True), responses=s.ChannelOut(many=True),
                   summary="Reorder channels: the list order is the new order (MANAGE_CHANNELS)")
    def patch(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        ser = s.ChannelPosition(data=request.data, many=True)
        ser.is_valid(raise_exception=True)
        order = [(row["id"], row["category_id"]) for row in ser.validated_data]
        services.reorder_channels(actor=request.user, guild=access.guild, order=order)
        # Answer like GET: the new order of the channels this member can see, never the hidden ones.
        return Response(s.ChannelOut([c for c, _ in selectors.visible_channels(access.member)], many=True).data)


class GuildCategoriesView(APIView):
    @extend_schema(responses=s.CategoryOut(many=True))
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        return Response(s.CategoryOut(access.guild.categories.all(), many=True).data)

    @extend_schema(request=s.CategoryIn, responses={201: s.CategoryOut}, summary="Create a category")
    def post(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        cat = services.create_category(actor=request.user, guild=access.guild, **validated(s.CategoryIn, request.data))
        return Response(s.CategoryOut(cat).data, status=status.HTTP_201_CREATED)


class CategoryDetailView(APIView):
    @extend_schema(responses=NO_CONTENT, summary="Delete a category (its channels stay)")
    def delete(self, request, category_id):
        cat = get_object_or_404(Category, pk=category_id)
        selectors.access_guild(request.user, cat.guild_id)
        services.delete_category(actor=request.user, category=cat)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelDetailView(APIView):
    @extend_schema(responses=s.ChannelOut)
    def get(self, request, channel_id):
        return Response(s.ChannelOut(selectors.access_channel(request.user, channel_id).channel).data)

    @extend_schema(request=s.ChannelPatch, responses=s.ChannelOut, summary="Edit a channel (MANAGE_CHANNELS)")
    def patch(self, request, channel_id):
        access = selectors.access_channel(request.user, channel_id)
        data = validated(s.ChannelPatch, request.data)
        if "category_id" in data:
            data["category"] = _category(access.channel.guild, data.pop("category_id"))
        channel = services.update_channel(actor=request.user, channel=access.channel, **data)
        return Response(s.ChannelOut(channel).data)

    @extend_schema(responses=NO_CONTENT, summary="Delete a channel (MANAGE_CHANNELS)")
    def delete(self, request, channel_id):
        services.delete_channel(actor=request.user, channel=selectors.access_channel(request.user, channel_id).channel)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelPermissionsView(APIView):
    @extend_schema(responses=s.PermissionsOut, summary="My permissions in a channel")
    def get(self, request, channel_id):
        perms = selectors.access_channel(request.user, channel_id).permissions
        return Response(payloads.permissions(perms))


class OverwriteListView(APIView):
    @extend_schema(responses=s.OverwriteOut(many=True),
                   summary="A channel's permission overwrites (MANAGE_CHANNELS or MANAGE_ROLES in the channel)")
    def get(self, request, channel_id):
        channel = selectors.channel_settings_access(request.user, channel_id).channel
        return Response(s.OverwriteOut(selectors.overwrites_of(channel), many=True).data)


class OverwriteDetailView(APIView):
    @extend_schema(request=s.OverwriteIn, responses=s.OverwriteOut,
                   summary="Set a role's or member's overwrite (MANAGE_ROLES in the channel)")
    def put(self, request, channel_id, target_type, target_id):
        channel = selectors.access_channel(request.user, channel_id).channel
        target = selectors.overwrite_target(channel.guild, target_type, target_id)
        bits = validated(s.OverwriteIn, request.data)
        ow = services.set_overwrite(actor=request.user, channel=channel, **target, **bits)
        return Response(s.OverwriteOut(ow).data)

    @extend_schema(responses=NO_CONTENT, summary="Remove an overwrite")
    def delete(self, request, channel_id, target_type, target_id):
        channel = selectors.access_channel(request.user, channel_id).channel
        target = selectors.overwrite_target(channel.guild, target_type, target_id)
        services.delete_overwrite(actor=request.user, overwrite=selectors.overwrite_for(channel, target))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- roles ---

class RoleListView(APIView):
    @extend_schema(responses=s.RoleOut(many=True), summary="Roles, highest first")
    def get(self, request, guild_id):
        guild = selectors.access_guild(request.user, guild_id).guild
        return Response(s.RoleOut(selectors.roles_of(guild), many=True).data)

    @extend_schema(request=s.RoleIn, responses={201: s.RoleOut}, summary="Create a role (MANAGE_ROLES)")
    def post(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        role = services.create_role(actor=request.user, guild=access.guild, **validated(s.RoleIn, request.data))
        return Response(s.RoleOut(role).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RoleOrderIn, responses=s.RoleOut(many=True), summary="Reorder roles (MANAGE_ROLES)",
                   operation_id="guilds_roles_reorder")
    def patch(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        services.reorder_roles(actor=request.user, guild=access.guild, **validated(s.RoleOrderIn, request.data))
        return Response(s.RoleOut(selectors.roles_of(access.guild), many=True).data)


class RoleDetailView(APIView):
    @extend_schema(request=s.RolePatch, responses=s.RoleOut, summary="Edit a role (MANAGE_ROLES, below your top role)")
    def patch(self, request, guild_id, role_id):
        access = selectors.access_guild(request.user, guild_id)
        role = services.update_role(actor=request.user, role=selectors.role_in(access.guild, role_id),
                                    **validated(s.RolePatch, request.data))
        return Response(s.RoleOut(role).data)

    @extend_schema(responses=NO_CONTENT, summary="Delete a role")
    def delete(self, request, guild_id, role_id):
        access = selectors.access_guild(request.user, guild_id)
        services.delete_role(actor=request.user, role=selectors.role_in(access.guild, role_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- members and bans ---

class MemberListView(APIView):
    pagination_class = IdCursorPagination

    @extend_schema(responses=s.MemberOut(many=True), summary="Members (cursor pages)")
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        return paginated(self, request, selectors.members_of(access.guild), s.MemberOut)


class MemberSearchView(APIView):
    @extend_schema(parameters=[s.MemberSearchQuery], responses=s.MemberOut(many=True),
                   summary="Members whose name starts with a query, by username (for mention autocomplete)")
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        query = validated_query(s.MemberSearchQuery, request.query_params)
        return Response(s.MemberOut(selectors.search_members(access.guild, query["query"], limit=query["limit"]),
                                    many=True).data)


class MemberDetailView(APIView):
    @extend_schema(responses=s.MemberOut)
    def get(self, request, guild_id, user_id):
        guild = selectors.access_guild(request.user, guild_id).guild
        return Response(s.MemberOut(selectors.member_in(guild, user_id)).data)

    @extend_schema(request=s.MemberPatch, responses=s.MemberOut,
                   summary="Set a member's nickname and/or roles (MANAGE_NICKNAMES / MANAGE_ROLES)")
    def patch(self, request, guild_id, user_id):
        access = selectors.access_guild(request.user, guild_id)
        member = selectors.member_in(access.guild, user_id)
        data = validated(s.MemberPatch, request.data)
        # One request, one outcome: a refused role change must not leave the nickname changed.
        with transaction.atomic():
            if "nickname" in data:
                services.set_nickname(actor=request.user, member=member, nickname=data["nickname"])
            if "roles" in data:
                roles = selectors.assignable_roles(access.guild, data["roles"])
                services.set_member_roles(actor=request.user, member=member, roles=roles)
        return Response(s.MemberOut(selectors.member_in(access.guild, user_id)).data)

    @extend_schema(request=s.ReasonIn, responses=NO_CONTENT, summary="Kick a member (KICK_MEMBERS)")
    def delete(self, request, guild_id, user_id):
        access = selectors.access_guild(request.user, guild_id)
        sanctions.kick_member(actor=request.user, member=selectors.member_in(access.guild, user_id),
                              reason=validated(s.ReasonIn, request.data)["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LeaveGuildView(APIView):
    @extend_schema(request=None, responses=NO_CONTENT, summary="Leave a guild")
    def delete(self, request, guild_id):
        services.leave_guild(user=request.user, guild=selectors.access_guild(request.user, guild_id).guild)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberTimeoutView(APIView):
    @extend_schema(request=s.TimeoutIn, responses=s.MemberOut, summary="Time a member out (MODERATE_MEMBERS)")
    def post(self, request, guild_id, user_id):
        access = selectors.access_guild(request.user, guild_id)
        data = validated(s.TimeoutIn, request.data)
        duration = timedelta(seconds=data["seconds"]) if data["seconds"] else None
        member = sanctions.timeout_member(actor=request.user, member=selectors.member_in(access.guild, user_id),
                                          duration=duration, reason=data["reason"])
        return Response(s.MemberOut(member).data)


class BanListView(APIView):
    pagination_class = NewestFirstPagination

    @extend_schema(responses=s.BanOut(many=True), summary="Bans (BAN_MEMBERS)")
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        access.require(Permission.BAN_MEMBERS)
        return paginated(self, request, selectors.bans_of(access.guild), s.BanOut)


class BanDetailView(APIView):
    @extend_schema(request=s.BanIn, responses={201: s.BanOut}, summary="Ban a user (BAN_MEMBERS)")
    def put(self, request, guild_id, user_id):
        access = selectors.access_guild(request.user, guild_id)
        user = user_by_id(user_id)
        ban = sanctions.ban_member(actor=request.user, guild=access.guild, user=user,
                                   **validated(s.BanIn, request.data))
        return Response(s.BanOut(ban).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=NO_CONTENT, summary="Lift a ban (BAN_MEMBERS)")
    def delete(self, request, guild_id, user_id):
        access = selectors.access_guild(request.user, guild_id)
        sanctions.unban_member(actor=request.user, guild=access.guild, user=user_by_id(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- invites ---

class GuildInvitesView(APIView):
    pagination_class = NewestFirstPagination

    @extend_schema(responses=s.InviteOut(many=True), summary="Active invites (MANAGE_GUILD)")
    def get(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        access.require(Permission.MANAGE_GUILD)
        qs = selectors.active_invites(access.guild).select_related("guild")
        return paginated(self, request, qs, s.InviteOut)

    @extend_schema(request=s.InviteIn, responses={201: s.InviteOut}, summary="Create an invite (CREATE_INVITE)")
    def post(self, request, guild_id):
        access = selectors.access_guild(request.user, guild_id)
        data = validated(s.InviteIn, request.data)
        channel_id = data.pop("channel_id")
        # A channel the member cannot see is answered 404, as if it did not exist.
        channel = selectors.access_channel(request.user, channel_id).channel if channel_id else None
        invite = invites.create_invite(actor=request.user, guild=access.guild, channel=channel, **data)
        return Response(s.InviteOut(invite, context={"request": request}).data, status=status.HTTP_201_CREATED)


class InviteDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=s.InviteOut, summary="Preview an invite (no login needed)")
    def get(self, request, code):
        invite = selectors.known_invite(code, usable=True)
        return Response(s.InviteOut(invite, context={"request": request}).data)

    @extend_schema(responses=NO_CONTENT, summary="Revoke an invite (its creator or MANAGE_GUILD)")
    def delete(self, request, code):
        if not request.user.is_authenticated:
            self.permission_denied(request)
        invite = selectors.known_invite(code)
        selectors.access_guild(request.user, invite.guild_id)
        invites.revoke_invite(actor=request.user, invite=invite)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InviteAcceptView(APIView):
    @extend_schema(request=None, responses=s.MemberOut, summary="Join the invite's guild")
    def post(self, request, code):
        member = invites.join_by_invite(user=request.user, code=code)
        return Response(s.MemberOut(member).data)


# --- the audit log ---

def _audit_entries(request, guild_id):
    access = selectors.access_guild(request.user, guild_id)
    access.require(Permission.VIEW_AUDIT_LOG)
    return selectors.audit_log(access.guild, viewer=access.member,
                               **validated_query(s.AuditLogQuery, request.query_params))


class _Payload:
    """Lets the paginator hand entries to the one payload function."""

    def __init__(self, entries, many=True, **kwargs):
        self.data = [payloads.audit_entry_payload(e) for e in entries]


class AuditLogView(APIView):
    pagination_class = NewestFirstPagination

    @extend_schema(parameters=[s.AuditLogQuery], responses=s.AuditEntryOut(many=True),
                   summary="The guild's audit log, newest first, filtered by action, actor and time (VIEW_AUDIT_LOG)")
    def get(self, request, guild_id):
        return paginated(self, request, _audit_entries(request, guild_id), _Payload)


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    COLUMNS = ("id", "created_at", "action", "actor_id", "actor", "target_type", "target_id", "reason", "changes")

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        writer = csv.writer(out)
        if isinstance(data, dict) and "error" in data:  # an error answers as one line a reader can see
            writer.writerow(["error", data["error"].get("code"), data["error"].get("message")])
            return out.getvalue().encode()
        writer.writerow(self.COLUMNS)
        for e in data:
            actor = e["actor"] or {}
            writer.writerow([e["id"], e["created_at"], e["action"], actor.get("id", ""), actor.get("username", ""),
                             e["target_type"], e["target_id"] if e["target_id"] is not None else "",
                             e["reason"], json.dumps(e["changes"], ensure_ascii=False, sort_keys=True)])
        return out.getvalue().encode()


class AuditLogExportView(APIView):
    """The whole filtered log (up to AUDIT_EXPORT_MAX entries, newest first) as a file:
    ?format=csv or ?format=json."""

    renderer_classes = [renderers.JSONRenderer, CSVRenderer]

    @extend_schema(parameters=[s.AuditLogQuery], responses=s.AuditEntryOut(many=True),
                   summary="Export the audit log as CSV or JSON (?format=csv|json, VIEW_AUDIT_LOG)")
    def get(self, request, guild_id):
        entries = _audit_entries(request, guild_id)[: selectors.AUDIT_EXPORT_MAX]
        response = Response([payloads.audit_entry_payload(e) for e in entries])
        ext = "csv" if request.accepted_renderer.format == "csv" else "json"
        response["Content-Disposition"] = f'attachment; filename="audit-log-{guild_id}.{ext}"'
        return response
