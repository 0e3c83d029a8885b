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
    """One scored item (a message, a track's title and description, a track comment): its score,
    and, once it reached the review threshold, the review. `kind` says which; only that item's link
    may be set (a removed track or comment leaves the flag behind as evidence, its link empty)."""

    class Kind(models.TextChoices):
        MESSAGE = "message"
        TRACK = "track"
        TRACK_COMMENT = "track_comment", "track comment"

    class State(models.TextChoices):
        CLEAN = "clean"  # scored below the review threshold: not in the queue
        OPEN = "open"
        APPROVED = "approved"
        REMOVED = "removed"

    class Label(models.TextChoices):
        NONE = "", "-"
        NOT_TOXIC = "not_toxic", "not toxic"
        TOXIC = "toxic", "toxic"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.MESSAGE)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, null=True, blank=True, related_name="flag")
    track = models.OneToOneField("tracks.Track", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="flag")
    track_comment = models.OneToOneField("tracks.TrackComment", on_delete=models.SET_NULL, null=True, blank=True,
                                         related_name="flag")
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="+")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
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
        verbose_name = "flagged item"
        indexes = [models.Index(fields=["state", "-score"], name="flag_queue")]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=0) & Q(score__lte=1), name="flag_score_range"),
            models.CheckConstraint(condition=Q(state__in=["clean", "open"]) | Q(decided_at__isnull=False),
                                   name="flag_decided_has_time"),
            models.CheckConstraint(
                condition=(Q(kind="message", message__isnull=False, channel__isnull=False, track__isnull=True,
                             track_comment__isnull=True)
                           | Q(kind="track", message__isnull=True, track_comment__isnull=True)
                           | Q(kind="track_comment", message__isnull=True, track__isnull=True)),
                name="flag_one_item"),
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
    # When the member said they read it; until then every page they open shows it.
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["guild", "user"]),
                   models.Index(fields=["user"], condition=models.Q(seen_at__isnull=True), name="warning_unseen")]

    def __str__(self) -> str:
        return f"warning to {self.user_id}: {self.reason[:40]}"


class Report(models.Model):
    """A member's report of a message, a track, a track comment or a member of a guild. One open
    report per reporter and item (`target`); moderators close it as actioned or dismissed, and the
    reporter hears of the outcome."""

    class Kind(models.TextChoices):
        MESSAGE = "message"
        TRACK = "track"
        TRACK_COMMENT = "track_comment", "track comment"
        USER = "user"

    class Category(models.TextChoices):
        SPAM = "spam"
        HARASSMENT = "harassment"
        HATE = "hate", "hate speech"
        SEXUAL = "sexual", "sexual content"
        VIOLENCE = "violence"
        SELF_HARM = "self_harm", "self-harm"
        ILLEGAL = "illegal", "illegal content"
        OTHER = "other"

    class State(models.TextChoices):
        OPEN = "open"
        ACTIONED = "actioned"
        DISMISSED = "dismissed"

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="+")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target = models.CharField(max_length=40, help_text="kind:id, one open report per reporter and target.")
    # The item itself (one of these, by kind) and whose it is; evidence survives the item's removal.
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    track = models.ForeignKey("tracks.Track", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    comment = models.ForeignKey("tracks.TrackComment", on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    reported_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                      related_name="+")
    content = models.TextField(blank=True, help_text="The reported text as it read when reported.")
    category = models.CharField(max_length=16, choices=Category.choices)
    details = models.TextField(max_length=1000, blank=True)
    state = models.CharField(max_length=9, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(max_length=255, blank=True,
                               help_text="What the moderators did, as the reporter sees it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "guild"], name="report_queue"),
                   models.Index(fields=["reporter", "-id"], name="report_by_reporter")]
        constraints = [
            models.UniqueConstraint(fields=["reporter", "target"], condition=Q(state="open"),
                                    name="report_one_open_per_target"),
            models.CheckConstraint(condition=Q(state="open") | Q(decided_at__isnull=False),
                                   name="report_decided_has_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} report #{self.pk} ({self.state})"


class AutomodRule(models.Model):
    """What a guild refuses (block) or sends to review (flag): words and patterns (patterns are
    checked for safety when the rule is saved, apps/moderation/automod.py), too many mentions,
    links or invites outside an allow-list, sending too fast or repeating oneself, and accounts or
    memberships too new to post. A blocking rule may also time the author out and alert a channel."""

    class Kind(models.TextChoices):
        KEYWORD = "keyword"
        MENTION_SPAM = "mention_spam", "mention spam"
        LINKS = "links"
        INVITES = "invites"
        RATE = "rate", "rate spam"
        NEW_ACCOUNT = "new_account", "new accounts"

    class Action(models.TextChoices):
        BLOCK = "block"
        FLAG = "flag"

    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="automod_rules")
    name = models.CharField(max_length=100)
    keywords = models.JSONField(default=list, blank=True)
    patterns = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.KEYWORD)
    # mention_spam: most mentions a message may hold; rate: most messages per window.
    limit = models.PositiveIntegerField(null=True, blank=True)
    duplicate_limit = models.PositiveIntegerField(null=True, blank=True, help_text="rate: most identical messages.")
    window_seconds = models.PositiveIntegerField(null=True, blank=True)
    allowed_domains = models.JSONField(default=list, blank=True, help_text="links, invites: hosts let through.")
    min_account_age_minutes = models.PositiveIntegerField(null=True, blank=True)
    min_member_age_minutes = models.PositiveIntegerField(null=True, blank=True)
    action = models.CharField(max_length=5, choices=Action.choices)
    timeout_seconds = models.PositiveIntegerField(default=0, help_text="block: also time the author out.")
    alert_channel = models.ForeignKey(Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                      help_text="block: also tell the moderators in this channel.")
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
