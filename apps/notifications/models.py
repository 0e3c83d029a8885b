"""What a member wants to hear of: notification levels and mutes per guild, per channel and per DM,
and the devices Web Push reaches (one PushSubscription per browser that said yes)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.guilds.models import Channel, Guild


class Level(models.TextChoices):
    ALL = "all", _("All messages")
    MENTIONS = "mentions", _("Only @mentions")
    NOTHING = "nothing", _("Nothing")


class ChannelLevel(models.TextChoices):
    """A channel's or a DM's own level; `inherit` follows the guild (a DM: all messages)."""

    INHERIT = "inherit", _("Use the default")
    ALL = "all", _("All messages")
    MENTIONS = "mentions", _("Only @mentions")
    NOTHING = "nothing", _("Nothing")


class Mutable(models.Model):
    """A mute: on (`muted`) until `muted_until`, or until turned back on (no end). An ended mute is
    simply over: nothing has to run when it ends."""

    muted = models.BooleanField(default=False)
    muted_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def is_muted(self, now=None) -> bool:
        return self.muted and (self.muted_until is None or self.muted_until > (now or timezone.now()))


class GuildSettings(Mutable):
    """A member's notification settings for one guild. No row: the defaults (only @mentions,
    @everyone and @here heard, not muted)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.MENTIONS)
    suppress_everyone = models.BooleanField(default=False, help_text="@everyone and @here do not notify.")

    class Meta:
        verbose_name_plural = "guild notification settings"
        constraints = [
            models.UniqueConstraint(fields=["user", "guild"], name="notify_guild_once"),
            models.CheckConstraint(condition=Q(muted=True) | Q(muted_until__isnull=True),
                                   name="notify_guild_until_only_muted"),
        ]
        # "Who in this guild hears every message": the one read a message without mentions needs.
        indexes = [models.Index(fields=["guild", "level"], name="notify_guild_level")]

    def __str__(self) -> str:
        return f"{self.user_id} in guild {self.guild_id}: {self.level}"


class ChannelSettings(Mutable):
    """A member's override for one guild channel, or their settings for one DM or group DM."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=8, choices=ChannelLevel.choices, default=ChannelLevel.INHERIT)

    class Meta:
        verbose_name_plural = "channel notification settings"
        constraints = [
            models.UniqueConstraint(fields=["user", "channel"], name="notify_channel_once"),
            models.CheckConstraint(condition=Q(muted=True) | Q(muted_until__isnull=True),
                                   name="notify_channel_until_only_muted"),
        ]
        indexes = [models.Index(fields=["channel", "level"], name="notify_channel_level")]

    def __str__(self) -> str:
        return f"{self.user_id} in channel {self.channel_id}: {self.level}"


class PushSubscription(models.Model):
    """One browser's Web Push subscription (the PushSubscription a service worker got from its
    browser's push service). The endpoint names the device: it is unique, and a browser that
    subscribes again for another account moves to that account. Deleted when the push service says
    it is gone (404/410) or the browser unsubscribes."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=2048)
    p256dh = models.CharField(max_length=100, help_text="The browser's P-256 public key (base64url).")
    auth = models.CharField(max_length=40, help_text="The browser's authentication secret (base64url).")
    user_agent = models.CharField(max_length=512, blank=True)
    # The language the page spoke when it subscribed: the words of its notifications.
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["endpoint"], name="push_endpoint_once")]

    def __str__(self) -> str:
        return f"push for {self.user_id} ({self.user_agent[:40]})"


# --- activity on a member's tracks and profile -----------------------------------------------------

class ActivityKind(models.TextChoices):
    FOLLOW = "follow", _("New followers")
    LIKE = "like", _("Likes on your tracks")
    REPOST = "repost", _("Reposts of your tracks")
    COMMENT = "comment", _("Comments on your tracks")
    REPLY = "reply", _("Replies to your comments")


class Activity(models.Model):
    """Someone followed the recipient, or liked, reposted or commented on one of their tracks, or
    replied to their comment (activity.py decides; never the recipient's own act)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="activities")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=ActivityKind.choices)
    track = models.ForeignKey("tracks.Track", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    comment = models.ForeignKey("tracks.TrackComment", on_delete=models.CASCADE, null=True, blank=True,
                                related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "activities"
        constraints = [models.CheckConstraint(condition=~Q(recipient=models.F("actor")), name="activity_not_self")]
        indexes = [models.Index(fields=["recipient", "-id"], name="activity_recipient_newest"),
                   models.Index(fields=["recipient"], name="activity_unread", condition=Q(read_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.actor_id} {self.kind} → {self.recipient_id}"


class ActivitySettings(models.Model):
    """Which kinds of activity a member hears of (inbox, live and Web Push). No row: all of them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    follow = models.BooleanField(default=True)
    like = models.BooleanField(default=True)
    repost = models.BooleanField(default=True)
    comment = models.BooleanField(default=True)
    reply = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "activity settings"

    def __str__(self) -> str:
        return f"activity settings of {self.user_id}"
