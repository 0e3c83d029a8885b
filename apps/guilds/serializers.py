"""Input and output shapes of the guilds API. No writes here: views call services."""
from django.utils.translation import gettext
from rest_framework import serializers

from apps.core.fields import IdField, StrictCharField

from . import events
from .models import Ban, Category, Channel, Guild, Invite, Member, PermissionOverwrite, Role
from .permissions import Permission


class BitfieldField(StrictCharField):
    """64-bit permission fields travel as decimal strings, as in Discord's API (JSON loses
    precision past 2**53)."""

    MAX_DIGITS = 20  # 2**64 has 20 digits; longer strings are refused before int() sees them

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        # str.isdigit() alone lets through digits int() refuses ("²") and lengths it refuses (> 4300).
        if not (value.isascii() and value.isdigit()) or len(value) > self.MAX_DIGITS:
            raise serializers.ValidationError(
                gettext("A permission bitfield is a decimal string of at most 20 digits."))
        return int(value)

    def to_representation(self, value):
        return str(value)


# --- output ---

class GuildOut(serializers.ModelSerializer):
    class Meta:
        model = Guild
        fields = ["id", "name", "description", "icon", "owner_id", "discoverable", "mfa_required", "created_at"]


class CategoryOut(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "guild_id", "name", "position"]


class ChannelOut(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "guild_id", "category_id", "name", "type", "topic", "position", "slowmode_seconds",
                  "nsfw", "user_limit", "created_at"]


class RoleOut(serializers.ModelSerializer):
    permissions = BitfieldField()

    class Meta:
        model = Role
        fields = ["id", "guild_id", "name", "color", "position", "permissions", "hoist", "mentionable", "is_default"]


class UserBrief(serializers.Serializer):
    id = serializers.IntegerField()
    username = StrictCharField()
    display_name = StrictCharField()


class MemberOut(serializers.ModelSerializer):
    user = UserBrief()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Member
        fields = ["id", "guild_id", "user", "nickname", "roles", "joined_at", "timed_out_until"]

    def get_roles(self, obj) -> list[int]:
        return [r.id for r in obj.roles.all()]


class OverwriteOut(serializers.ModelSerializer):
    type = StrictCharField(source="target_type")
    id = serializers.IntegerField(source="target_id")
    allow = BitfieldField()
    deny = BitfieldField()

    class Meta:
        model = PermissionOverwrite
        fields = ["type", "id", "allow", "deny"]


class InviteOut(serializers.ModelSerializer):
    guild = GuildOut()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Invite
        fields = ["code", "url", "guild", "channel_id", "creator_id", "max_uses", "uses", "expires_at",
                  "revoked_at", "created_at"]

    def get_url(self, obj) -> str:
        request = self.context.get("request")
        path = f"/invite/{obj.code}"
        return request.build_absolute_uri(path) if request else path


class BanOut(serializers.ModelSerializer):
    user = UserBrief()

    class Meta:
        model = Ban
        fields = ["user", "reason", "created_at"]


class PermissionsOut(serializers.Serializer):
    permissions = BitfieldField()
    names = serializers.ListField(child=StrictCharField())


# --- input ---

class GuildIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True, default="")
    discoverable = serializers.BooleanField(required=False, default=False)


class GuildPatch(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    description = StrictCharField(max_length=1000, required=False, allow_blank=True)
    discoverable = serializers.BooleanField(required=False)
    mfa_required = serializers.BooleanField(
        required=False, help_text="Moderators (kick, ban, timeout, manage messages, roles and channels) need "
                                  "two-factor authentication. Only the owner, with 2FA on, may change it.")


class TransferIn(serializers.Serializer):
    owner_id = IdField()


class ChannelIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    type = serializers.ChoiceField(choices=Channel.GUILD_TYPE_CHOICES, default=Channel.Type.TEXT)
    category_id = IdField(required=False, allow_null=True, default=None)
    topic = StrictCharField(max_length=1024, required=False, allow_blank=True, default="")
    nsfw = serializers.BooleanField(required=False, default=False)
    slowmode_seconds = serializers.IntegerField(min_value=0, max_value=21600, required=False, default=0)
    user_limit = serializers.IntegerField(min_value=0, max_value=99, required=False, default=0)


class ChannelPatch(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    category_id = IdField(required=False, allow_null=True)
    topic = StrictCharField(max_length=1024, required=False, allow_blank=True)
    nsfw = serializers.BooleanField(required=False)
    slowmode_seconds = serializers.IntegerField(min_value=0, max_value=21600, required=False)
    user_limit = serializers.IntegerField(min_value=0, max_value=99, required=False)


class ChannelPosition(serializers.Serializer):
    id = IdField()
    category_id = IdField(allow_null=True, required=False, default=None)


class CategoryIn(serializers.Serializer):
    name = StrictCharField(max_length=100)


class RoleIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    permissions = BitfieldField(required=False, default="0")
    color = serializers.IntegerField(min_value=0, max_value=0xFFFFFF, required=False, default=0)
    hoist = serializers.BooleanField(required=False, default=False)
    mentionable = serializers.BooleanField(required=False, default=False)


class RolePatch(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    permissions = BitfieldField(required=False)
    color = serializers.IntegerField(min_value=0, max_value=0xFFFFFF, required=False)
    hoist = serializers.BooleanField(required=False)
    mentionable = serializers.BooleanField(required=False)


class RoleOrderIn(serializers.Serializer):
    order = serializers.ListField(child=IdField(), max_length=250,
                                  help_text="Role ids from highest to lowest.")


class MemberPatch(serializers.Serializer):
    nickname = StrictCharField(max_length=32, required=False, allow_blank=True)
    roles = serializers.ListField(child=IdField(), required=False, max_length=250)


class MemberSearchQuery(serializers.Serializer):
    query = StrictCharField(required=False, default="", allow_blank=True, max_length=100,
                        help_text="The start of a username, display name or nickname (any case).")
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)


class TimeoutIn(serializers.Serializer):
    seconds = serializers.IntegerField(min_value=0, max_value=28 * 86400,
                                       help_text="0 lifts the timeout.")
    reason = StrictCharField(max_length=512, required=False, allow_blank=True, default="")


class ReasonIn(serializers.Serializer):
    reason = StrictCharField(max_length=512, required=False, allow_blank=True, default="")


class BanIn(ReasonIn):
    delete_message_days = serializers.IntegerField(min_value=0, max_value=7, required=False, default=0)


class OverwriteIn(serializers.Serializer):
    allow = BitfieldField(required=False, default="0")
    deny = BitfieldField(required=False, default="0")


class InviteIn(serializers.Serializer):
    channel_id = IdField(required=False, allow_null=True, default=None)
    max_uses = serializers.IntegerField(min_value=0, max_value=100, required=False, default=0)
    max_age_seconds = serializers.IntegerField(min_value=0, max_value=604800, required=False, default=86400)


PERMISSION_NAMES = [p.name for p in Permission]


class AuditLogQuery(serializers.Serializer):
    action = StrictCharField(required=False, default="", allow_blank=True, max_length=64)
    actor_id = IdField(required=False, allow_null=True, default=None)
    since = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="From this time (ISO 8601), inclusive.")
    until = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="Up to this time (ISO 8601), inclusive.")


class AuditEntryOut(serializers.Serializer):
    """Documentation of an entry's shape (built by payloads.audit_entry_payload)."""

    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    action = StrictCharField()
    actor = serializers.DictField(allow_null=True)
    target_type = StrictCharField()
    target_id = serializers.IntegerField(allow_null=True)
    reason = StrictCharField()
    changes = serializers.DictField()


# --- events: what each guild event's `d` is (built by payloads.py; see EVENT_SHAPES) -------------
# GUILD_CREATE and PERMISSIONS_CHANGED reach clients as the gateway completes them: documented in
# apps/realtime/serializers.py.

class GuildEventOut(serializers.Serializer):
    """GUILD_UPDATE (also on an ownership transfer)."""

    id = serializers.IntegerField()
    name = StrictCharField()
    description = StrictCharField()
    owner_id = serializers.IntegerField()
    discoverable = serializers.BooleanField()
    mfa_required = serializers.BooleanField()


class GuildDeleteEventOut(serializers.Serializer):
    """The user is no longer in the guild (left, kicked, banned, or the guild was deleted)."""

    id = serializers.IntegerField()


class ChannelEventOut(serializers.Serializer):
    """CHANNEL_CREATE, CHANNEL_UPDATE and CHANNEL_DELETE of a guild channel."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    category_id = serializers.IntegerField(allow_null=True)
    name = StrictCharField()
    type = StrictCharField(help_text="text, voice or announcement.")
    topic = StrictCharField()
    position = serializers.IntegerField()
    slowmode_seconds = serializers.IntegerField()
    nsfw = serializers.BooleanField()
    user_limit = serializers.IntegerField()


class RoleEventOut(serializers.Serializer):
    """GUILD_ROLE_CREATE, GUILD_ROLE_UPDATE and GUILD_ROLE_DELETE."""

    id = serializers.IntegerField()
    guild_id = serializers.IntegerField()
    name = StrictCharField()
    color = serializers.IntegerField()
    position = serializers.IntegerField()
    permissions = BitfieldField(help_text="A decimal string: bitfields can exceed 2^53.")
    hoist = serializers.BooleanField()
    mentionable = serializers.BooleanField()


class MemberEventOut(serializers.Serializer):
    """GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE (roles, nickname or timeout changed)."""

    guild_id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    nickname = StrictCharField()
    roles = serializers.ListField(child=serializers.IntegerField())
    timed_out_until = serializers.DateTimeField(allow_null=True)


class GuildUserEventOut(serializers.Serializer):
    """GUILD_MEMBER_REMOVE, GUILD_BAN_ADD and GUILD_BAN_REMOVE."""

    guild_id = serializers.IntegerField()
    user_id = serializers.IntegerField()


class InviteEventOut(serializers.Serializer):
    """INVITE_CREATE and INVITE_DELETE (revoked)."""

    code = StrictCharField()
    guild_id = serializers.IntegerField()
    channel_id = serializers.IntegerField(allow_null=True)
    max_uses = serializers.IntegerField()
    uses = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True)


# The gateway events guilds publishes, each with the serializer that documents its `d` (in
# /api/schema/ under x-gateway-events; tests/integration/test_payloads.py checks real events).
EVENT_SHAPES = {
    events.GUILD_UPDATE: GuildEventOut,
    events.GUILD_DELETE: GuildDeleteEventOut,
    events.CHANNEL_CREATE: ChannelEventOut,
    events.CHANNEL_UPDATE: ChannelEventOut,
    events.CHANNEL_DELETE: ChannelEventOut,
    events.ROLE_CREATE: RoleEventOut,
    events.ROLE_UPDATE: RoleEventOut,
    events.ROLE_DELETE: RoleEventOut,
    events.MEMBER_ADD: MemberEventOut,
    events.MEMBER_UPDATE: MemberEventOut,
    events.MEMBER_REMOVE: GuildUserEventOut,
    events.BAN_ADD: GuildUserEventOut,
    events.BAN_REMOVE: GuildUserEventOut,
    events.INVITE_CREATE: InviteEventOut,
    events.INVITE_DELETE: InviteEventOut,
}
