"""Messages and what hangs off them: reactions, per-member read states and attached files."""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.guilds.models import Channel, Role


class Message(models.Model):
    class Visibility(models.TextChoices):
        VISIBLE = "visible"
        HELD = "held"  # hidden from all but its author (and moderators) until reviewed
        REMOVED = "removed"  # a moderator removed it: nobody sees it, the review keeps it as evidence

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    content = models.TextField()
    content_html = models.TextField(blank=True)
    reply_to = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies")
    mention_everyone = models.BooleanField(default=False)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="mentioned_in")
    mention_roles = models.ManyToManyField(Role, blank=True, related_name="mentioned_in")
    pinned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Kept on the row so the database itself can tell an empty message from a files-only one.
    attachment_count = models.PositiveSmallIntegerField(default=0)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.VISIBLE)
    # The sender's idempotency key (services.send_message): a retry with the same one finds this
    # message instead of making a second. Unique in the database, so two copies of one send racing
    # each other store one message; cleared when the author reuses it after NONCE_WINDOW.
    nonce = models.CharField(max_length=64, null=True, blank=True, editable=False)
    # Rich embeds the sender gave (apps/chat/embeds.py validated and sanitised them), in Discord's shape.
    embeds = models.JSONField(default=list, blank=True)
    # Link previews the unfurl task found (apps/chat/previews.py); hidden when the author suppresses them.
    previews = models.JSONField(default=list, blank=True)
    suppress_embeds = models.BooleanField(default=False)
    # Image URL named by the embeds (and a webhook's avatar) → the path of its WebP copy: browsers load
    # only the copies, never the sender's URLs (the CSP allows images from this site only).
    proxied = models.JSONField(default=dict, blank=True)
    # Sent through an incoming webhook: no author, the name and avatar the webhook call gave.
    webhook = models.ForeignKey("Webhook", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    webhook_name = models.CharField(max_length=80, blank=True)
    webhook_avatar_url = models.URLField(max_length=2048, blank=True)

    class Meta:
        ordering = ["id"]
        # History pages walk (channel, id) in either direction: one composite index serves
        # before/after/around at any depth.
        indexes = [
            models.Index(fields=["channel", "id"], name="message_channel_id"),
            models.Index(fields=["channel", "pinned_at"], name="message_pins", condition=Q(pinned_at__isnull=False)),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(content="") | Q(attachment_count__gt=0) | ~Q(embeds=[]),
                                   name="message_not_empty"),
            models.UniqueConstraint(fields=["channel", "author", "nonce"], condition=Q(nonce__isnull=False),
                                    name="message_nonce_once"),
        ]

    def __str__(self) -> str:
        return f"{self.author_id}: {self.content[:40]}"


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_once_per_user")]
        indexes = [models.Index(fields=["message", "emoji"])]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id}"


class ReadState(models.Model):
    """The last message a member has read in a channel."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_states")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="read_states")
    last_read_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "channel"], name="read_state_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.channel_id} to {self.last_read_id}"


def attachment_path(attachment: "Attachment", filename: str) -> str:
    # A random folder per upload: names never collide and cannot be guessed from the id.
    return f"attachments/{attachment.channel_id}/{attachment.key.hex}/{filename}"


class Attachment(models.Model):
    """A file uploaded to a channel. It waits, unsent, until its uploader sends a message with it
    (`sent_at` set); `state` follows the media pipeline (an image's thumbnail)."""

    class State(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="attachments")
    uploader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # Deleting the message detaches its files; the purge deletes them (rows and stored files).
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    file = models.FileField(upload_to=attachment_path, max_length=500)
    thumbnail = models.FileField(upload_to=attachment_path, max_length=500, blank=True)
    thumbnail_size = models.PositiveIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    failure_reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["created_at"], name="attachment_unsent",
                                condition=Q(sent_at__isnull=True))]
        constraints = [
            models.CheckConstraint(condition=Q(message__isnull=True) | Q(sent_at__isnull=False),
                                   name="attachment_sent_with_message"),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def is_image(self) -> bool:
        return self.width is not None


class Thread(models.Model):
    """What a thread adds to its channel (a guilds.Channel of type thread, whose id it shares).
    It lives here and not on Channel because it points at its starter message: guilds cannot
    depend on chat."""

    channel = models.OneToOneField(Channel, on_delete=models.CASCADE, primary_key=True, related_name="thread")
    # One thread per message at most; the thread outlives its starter message.
    starter_message = models.OneToOneField(Message, on_delete=models.SET_NULL, null=True, blank=True,
                                           related_name="thread")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    archived = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    message_count = models.PositiveIntegerField(default=0)
    last_message_at = models.DateTimeField(default=timezone.now)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(archived=True) | Q(archived_at__isnull=True),
                                              name="thread_archived_at_only_when_archived")]

    def __str__(self) -> str:
        return f"thread {self.channel_id}"


class ThreadMember(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    joined_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="thread_member_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in thread {self.thread_id}"


class Webhook(models.Model):
    """An incoming webhook: whoever holds its URL (id + token) may post to its channel. Only a hash
    of the token is kept; the token itself is shown once, when it is made."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="webhooks")
    name = models.CharField(max_length=80)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.name} in {self.channel_id}"
