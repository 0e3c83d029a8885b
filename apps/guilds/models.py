"""Guilds, their channels and roles, members, overwrites, invites, bans and the audit log."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .permissions import DEFAULT_EVERYONE


class Guild(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_guilds")
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=1000, blank=True)
    icon = models.ImageField(_("icon"), upload_to="guild-icons/%Y/%m/", blank=True)
    discoverable = models.BooleanField(_("listed on Explore"), default=False)
    # Discord's "2FA requirement for moderation": see permissions.MFA_GATED.
    mfa_required = models.BooleanField(_("moderators need two-factor authentication"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Bumped whenever channels, roles or overwrites change: each process's cached layout (layout.py).
    layout_version = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        indexes = [models.Index(fields=["discoverable", "-id"])]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        VOICE = "voice", _("Voice")
        ANNOUNCEMENT = "announcement", _("Announcement")
        DM = "dm", _("Direct message")
        GROUP_DM = "group_dm", _("Group direct message")
        THREAD = "thread", _("Thread")

    # The kinds a guild's channel list holds: DMs have no guild and a thread is made from a message.
    GUILD_TYPES = (Type.TEXT, Type.VOICE, Type.ANNOUNCEMENT)
    GUILD_TYPE_CHOICES = [(t.value, t.label) for t in GUILD_TYPES]

    # Direct messages are channels outside any guild (guild is null); their recipients are DMRecipient rows.
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, null=True, blank=True, related_name="channels")
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="channels")
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    topic = models.CharField(_("topic"), max_length=1024, blank=True)
    position = models.PositiveIntegerField(default=0)
    slowmode_seconds = models.PositiveIntegerField(_("slow mode (seconds)"), default=0)
    nsfw = models.BooleanField(_("age-restricted"), default=False)
    user_limit = models.PositiveSmallIntegerField(_("user limit (voice)"), default=0)
    # Id of the newest message (kept by chat's send_message): the start of the newest history page.
    last_message_id = models.BigIntegerField(null=True, blank=True, editable=False)
    # The owner of a group DM (who may add and remove recipients); null on every other channel.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    # A thread's text channel; a thread takes its parent's permissions (see selectors.channel_permissions).
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, editable=False,
                               related_name="threads")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(slowmode_seconds__lte=21600), name="channel_slowmode_max"),
            models.CheckConstraint(condition=Q(user_limit__lte=99), name="channel_user_limit_max"),
            models.CheckConstraint(
                condition=(Q(type__in=["dm", "group_dm"], guild__isnull=True)
                           | (~Q(type__in=["dm", "group_dm"]) & Q(guild__isnull=False))),
                name="channel_guild_unless_private",
            ),
            models.CheckConstraint(condition=Q(owner__isnull=True) | Q(type="group_dm"),
                                   name="channel_owner_only_group_dm"),
            models.CheckConstraint(condition=Q(guild__isnull=False) | Q(slowmode_seconds=0),
                                   name="channel_private_no_slowmode"),
            models.CheckConstraint(condition=Q(type="thread", parent__isnull=False)
                                   | (~Q(type="thread") & Q(parent__isnull=True)), name="channel_thread_has_parent"),
        ]
        indexes = [models.Index(fields=["guild", "position"])]

    @property
    def is_private(self) -> bool:
        """A DM or group DM: no guild, access by recipient list."""
        return self.guild_id is None

    def __str__(self) -> str:
        return f"#{self.name}"


class Role(models.Model):
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(_("name"), max_length=100)
    color = models.PositiveIntegerField(_("colour"), default=0)
    position = models.PositiveIntegerField(default=0)
    permissions = models.BigIntegerField(default=int(DEFAULT_EVERYONE))
    hoist = models.BooleanField(_("shown separately"), default=False)
    mentionable = models.BooleanField(default=False)
    is_default = models.BooleanField(default=False, editable=False, help_text="The @everyone role.")
    # A bot's own role, made when it was added (apps.bots): nobody else can be given it, and it goes
    # when the bot leaves.
    managed = models.BooleanField(default=False, editable=False, help_text="A bot's own role.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["guild"], condition=Q(is_default=True), name="role_one_everyone_per_guild"),
            models.CheckConstraint(condition=Q(color__lte=0xFFFFFF), name="role_color_rgb"),
        ]

    @property
    def color_hex(self) -> str:
        return f"#{self.color:06x}" if self.color else ""

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    nickname = models.CharField(_("nickname"), max_length=32, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="members")
    joined_at = models.DateTimeField(default=timezone.now, editable=False)
    timed_out_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["guild", "user"], name="member_unique_per_guild")]

    @property
    def shown_name(self) -> str:
        return self.nickname or self.user.shown_name

    @property
    def is_timed_out(self) -> bool:
        return bool(self.timed_out_until and self.timed_out_until > timezone.now())

    def __str__(self) -> str:
        return f"{self.user} in {self.guild_id}"


class PermissionOverwrite(models.Model):
    """Allow/deny bits on one channel for one role or one member (exactly one of them)."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="overwrites")
    role = models.ForeignKey(Role, on_delete=models.CASCADE, null=True, blank=True, related_name="overwrites")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, null=True, blank=True, related_name="overwrites")
    allow = models.BigIntegerField(default=0)
    deny = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(role__isnull=False, member__isnull=True) | Q(role__isnull=True, member__isnull=False)),
                name="overwrite_role_xor_member",
            ),
            models.CheckConstraint(condition=Q(allow__gte=0, deny__gte=0), name="overwrite_bits_non_negative"),
            models.UniqueConstraint(fields=["channel", "role"], name="overwrite_unique_role"),
            models.UniqueConstraint(fields=["channel", "member"], name="overwrite_unique_member"),
        ]

    @property
    def target_type(self) -> str:
        return "role" if self.role_id else "member"

    @property
    def target_id(self) -> int:
        return self.role_id or self.member.user_id

    def __str__(self) -> str:
        return f"{self.target_type} overwrite on {self.channel}"


class Invite(models.Model):
    code = models.CharField(max_length=16, unique=True)
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="invites")
    channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    max_uses = models.PositiveIntegerField(default=0, help_text="0 means unlimited.")
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]

    @property
    def is_expired(self) -> bool:
        return bool(self.expires_at and self.expires_at <= timezone.now())

    @property
    def is_exhausted(self) -> bool:
        return bool(self.max_uses and self.uses >= self.max_uses)

    @property
    def is_usable(self) -> bool:
        return not (self.revoked_at or self.is_expired or self.is_exhausted)

    def __str__(self) -> str:
        return self.code


class Ban(models.Model):
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bans")
    reason = models.CharField(max_length=512, blank=True)
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["guild", "user"], name="ban_unique_per_guild")]

    def __str__(self) -> str:
        return f"{self.user} banned from {self.guild_id}"


class AuditLogEntry(models.Model):
    """What a guild's moderators and admins did, written by the services that did it."""

    class Action(models.TextChoices):
        GUILD_CREATE = "guild_create", _("Guild created")
        GUILD_UPDATE = "guild_update", _("Guild settings changed")
        GUILD_TRANSFER = "guild_transfer", _("Ownership transferred")
        CATEGORY_CREATE = "category_create", _("Category created")
        CATEGORY_DELETE = "category_delete", _("Category deleted")
        CHANNEL_CREATE = "channel_create", _("Channel created")
        CHANNEL_UPDATE = "channel_update", _("Channel changed")
        CHANNEL_REORDER = "channel_reorder", _("Channels reordered")
        CHANNEL_DELETE = "channel_delete", _("Channel deleted")
        OVERWRITE_SET = "overwrite_set", _("Channel permissions set")
        OVERWRITE_DELETE = "overwrite_delete", _("Channel permissions removed")
        ROLE_CREATE = "role_create", _("Role created")
        ROLE_UPDATE = "role_update", _("Role changed")
        ROLE_REORDER = "role_reorder", _("Roles reordered")
        ROLE_DELETE = "role_delete", _("Role deleted")
        INVITE_CREATE = "invite_create", _("Invite created")
        INVITE_REVOKE = "invite_revoke", _("Invite revoked")
        MEMBER_JOIN = "member_join", _("Member joined")
        MEMBER_ROLE_ADD = "member_role_add", _("Role given to a member")
        MEMBER_ROLE_REMOVE = "member_role_remove", _("Role taken from a member")
        MEMBER_NICKNAME = "member_nickname", _("Member renamed")
        MEMBER_WARN = "member_warn", _("Member warned")
        MEMBER_TIMEOUT = "member_timeout", _("Member timed out")
        MEMBER_TIMEOUT_LIFT = "member_timeout_lift", _("Timeout lifted")
        MEMBER_KICK = "member_kick", _("Member kicked")
        MEMBER_BAN = "member_ban", _("Member banned")
        MEMBER_UNBAN = "member_unban", _("Ban lifted")
        MESSAGE_DELETE = "message_delete", _("Message deleted by a moderator")
        MESSAGE_PIN = "message_pin", _("Message pinned")
        MESSAGE_UNPIN = "message_unpin", _("Message unpinned")
        MESSAGE_AUTO_HIDE = "message_auto_hide", _("Message held by the scorer")
        MESSAGE_APPROVE = "message_approve", _("Message approved")
        MESSAGE_REMOVE = "message_remove", _("Message removed")
        THREAD_UPDATE = "thread_update", _("Thread changed by a moderator")
        THREAD_DELETE = "thread_delete", _("Thread deleted")
        VOICE_MUTE = "voice_mute", _("Muted in voice")
        VOICE_UNMUTE = "voice_unmute", _("Unmuted in voice")
        VOICE_DEAFEN = "voice_deafen", _("Deafened in voice")
        VOICE_UNDEAFEN = "voice_undeafen", _("Undeafened in voice")
        VOICE_MOVE = "voice_move", _("Moved to another voice channel")
        VOICE_DISCONNECT = "voice_disconnect", _("Disconnected from voice")
        LISTENING_PARTY_CONTROL = "listening_party_control", _("Listening party controlled by a moderator")
        TRACK_DELETE = "track_delete", _("Track deleted by a moderator")
        TRACK_AUTO_HIDE = "track_auto_hide", _("Track held by the scorer")
        TRACK_APPROVE = "track_approve", _("Track approved")
        TRACK_REMOVE = "track_remove", _("Track removed")
        TRACK_COMMENT_DELETE = "track_comment_delete", _("Track comment deleted by a moderator")
        TRACK_COMMENT_AUTO_HIDE = "track_comment_auto_hide", _("Track comment held by the scorer")
        TRACK_COMMENT_APPROVE = "track_comment_approve", _("Track comment approved")
        TRACK_COMMENT_REMOVE = "track_comment_remove", _("Track comment removed")
        MODERATION_THRESHOLDS = "moderation_thresholds", _("Moderation thresholds changed")
        AUTOMOD_RULE_CREATE = "automod_rule_create", _("Automod rule created")
        AUTOMOD_RULE_DELETE = "automod_rule_delete", _("Automod rule deleted")
        REPORT_ACTION = "report_action", _("Report acted on")
        REPORT_DISMISS = "report_dismiss", _("Report dismissed")
        WEBHOOK_CREATE = "webhook_create", _("Webhook created")
        WEBHOOK_UPDATE = "webhook_update", _("Webhook changed")
        WEBHOOK_TOKEN_RESET = "webhook_token_reset", _("Webhook token regenerated")
        WEBHOOK_DELETE = "webhook_delete", _("Webhook deleted")

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="audit_log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=64, choices=Action.choices)
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=512, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "audit log entries"
        indexes = [models.Index(fields=["guild", "-id"])]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id}"


class DMRecipient(models.Model):
    """A user in a DM or group DM. In a ChannelAccess it stands where a guild Member stands for a
    guild channel: it has a user and a shown name, and no roles."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dm_recipients")
    joined_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["channel", "user"], name="dm_recipient_once")]
        indexes = [models.Index(fields=["user", "channel"])]

    @property
    def shown_name(self) -> str:
        return self.user.shown_name

    @property
    def roles(self):
        return Role.objects.none()

    def __str__(self) -> str:
        return f"{self.user_id} in DM {self.channel_id}"


class DirectPair(models.Model):
    """The two users of a 1:1 DM, smaller id first: one DM per pair of users."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, primary_key=True, related_name="pair")
    user_low = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    user_high = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_low", "user_high"], name="dm_one_per_pair"),
            models.CheckConstraint(condition=Q(user_low__lt=models.F("user_high")), name="dm_pair_ordered"),
        ]

    def __str__(self) -> str:
        return f"DM {self.user_low_id}-{self.user_high_id}"
