"""What moderation keeps: each scored message (the review queue is the ones above a threshold),
per-guild and per-channel thresholds, warnings given to members, and automod rules."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.chat.models import Message
from apps.guilds.models import Channel, Guild, Role


class Thresholds(models.Model):
    """A guild's thresholds (channel empty) or one channel's override."""

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="moderation_thresholds")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    review_at = models.FloatField()
    hide_at = models.FloatField()

    class Meta:
        verbose_name_plural = "thresholds"
        constraints = [
            models.UniqueConstraint(fields=["guild"], condition=Q(channel__isnull=True), name="thresholds_per_guild"),
            models.UniqueConstraint(fields=["channel"], name="thresholds_per_channel"),
            models.CheckConstraint(condition=Q(review_at__gte=0) & Q(review_at__lte=models.F("hide_at"))
                                   & Q(hide_at__lte=1), name="thresholds_ordered"),
        ]

    def __str__(self) -> str:
        return f"review {self.review_at} / hide {self.hide_at}"


class Flag(models.Model):
    """One scored message: its score, and, once it reached the review threshold, the review."""

    class State(models.TextChoices):
        CLEAN = "clean"  # scored below the review threshold: not in the queue
        OPEN = "open"
        APPROVED = "approved"
        REMOVED = "removed"

    class Label(models.TextChoices):
        NONE = "", "-"
        NOT_TOXIC = "not_toxic", "not toxic"
        TOXIC = "toxic", "toxic"

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="flag")
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    content = models.TextField(help_text="The text as it was scored.")
    score = models.FloatField()
    scorer = models.CharField(max_length=64)
    reason = models.CharField(max_length=255, blank=True, help_text="Why it was flagged, when not by score.")
    state = models.CharField(max_length=8, choices=State.choices, default=State.CLEAN)
    auto_hidden = models.BooleanField(default=False)
    label = models.CharField(max_length=10, choices=Label.choices, blank=True, default="")
    categories = models.JSONField(default=dict, blank=True, help_text="Per-category scores, if given.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    scored_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-id"]
        verbose_name = "flagged message"
        indexes = [models.Index(fields=["state", "-score"], name="flag_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="flag_score_range"),
            models.CheckConstraint(condition=Q(state__in=["clean", "open"]) | Q(decided_at__isnull=False),
                                   name="flag_decided_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.score:.2f} {self.content[:40]}"


class Warning(models.Model):  # noqa: A001 - the domain's word
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="warnings")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.CharField(max_length=512)
    flag = models.ForeignKey(Flag, on_delete=models.SET_NULL, null=True, blank=True, related_name="warnings")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["guild", "user"])]

    def __str__(self) -> str:
        return f"warning to {self.user_id}: {self.reason[:40]}"


class AutomodRule(models.Model):
    """Words and patterns a guild refuses (block) or sends to review (flag). Patterns are checked
    for safety when the rule is saved (apps/moderation/automod.py)."""

    class Action(models.TextChoices):
        BLOCK = "block"
        FLAG = "flag"

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="automod_rules")
    name = models.CharField(max_length=100)
    keywords = models.JSONField(default=list, blank=True)
    patterns = models.JSONField(default=list, blank=True)
    action = models.CharField(max_length=5, choices=Action.choices)
    reason = models.CharField(max_length=255, help_text="Shown to the member whose message is blocked.")
    exempt_roles = models.ManyToManyField(Role, blank=True, related_name="+")
    exempt_channels = models.ManyToManyField(Channel, blank=True, related_name="+")
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["guild"], name="automod_rule_guild", condition=Q(enabled=True))]

    def __str__(self) -> str:
        return f"{self.name} ({self.action})"


class ToxicityModel(models.Model):
    """One trained version of the toxicity model (apps/moderation/toxicity): its artifact in the
    default storage, how it evaluated, and whether the scorer uses it (at most one is promoted)."""

    version = models.PositiveIntegerField(unique=True)
    artifact = models.CharField(max_length=255, help_text="Name in the default storage.")
    metrics = models.JSONField(default=dict)
    label_count = models.PositiveIntegerField(default=0, help_text="Moderators' labels it was trained on.")
    trained_at = models.DateTimeField(default=timezone.now)
    promoted = models.BooleanField(default=False)
    promoted_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=255, blank=True, help_text="Why it was or was not promoted.")

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["promoted"], condition=Q(promoted=True),
                                               name="one_promoted_toxicity_model")]

    def __str__(self) -> str:
        return f"toxicity v{self.version}" + (" (promoted)" if self.promoted else "")
