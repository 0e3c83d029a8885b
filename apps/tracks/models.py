"""Audio tracks: what a member uploaded to a guild, and what the media pipeline made of it.

A track's files live under one random folder (`tracks/<key>/`): the original as uploaded, the
waveform peaks, a progressive AAC stream and an HLS ladder, and WebP cover thumbnails. The row
records where the pipeline is (`state`, `step`) so the uploader sees its progress, and why it
failed when it did."""
from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.guilds.models import Guild


def track_path(track: Track, filename: str) -> str:
    # A random folder per track: names never collide and cannot be guessed from the id.
    return f"tracks/{track.key.hex}/{filename}"


class Tag(models.Model):
    name = models.CharField(max_length=30, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def new_secret() -> str:
    return secrets.token_urlsafe(16)


class Licence(models.TextChoices):
    ALL_RIGHTS_RESERVED = "arr", _("All rights reserved")
    CC_BY = "cc-by", "CC BY"
    CC_BY_SA = "cc-by-sa", "CC BY-SA"
    CC_BY_ND = "cc-by-nd", "CC BY-ND"
    CC_BY_NC = "cc-by-nc", "CC BY-NC"
    CC_BY_NC_SA = "cc-by-nc-sa", "CC BY-NC-SA"
    CC_BY_NC_ND = "cc-by-nc-nd", "CC BY-NC-ND"
    CC0 = "cc0", "CC0"


class Track(models.Model):
    class Audience(models.TextChoices):
        GUILD = "guild"  # members of its guild (and its owner)
        UNLISTED = "unlisted"  # and anyone with the secret link
        PUBLIC = "public"  # and anyone, signed out too: listed, searchable, trending

    class Visibility(models.TextChoices):
        VISIBLE = "visible"
        HELD = "held"  # moderation holds it for review: only its owner (and MANAGE_TRACKS) see it
        REMOVED = "removed"  # removed by moderation: nobody sees it (kept, with its flag, as evidence)

    class State(models.TextChoices):
        UPLOADED = "uploaded"
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    class Step(models.TextChoices):
        PROBE = "probe"
        WAVEFORM = "waveform"
        RENDITIONS = "renditions"
        ARTWORK = "artwork"

    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracks")
    guild = models.ForeignKey(Guild, on_delete=models.CASCADE, related_name="tracks")
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=4000, blank=True)
    genre = models.CharField(max_length=40, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="tracks")

    original = models.FileField(upload_to=track_path, max_length=500)
    original_format = models.CharField(max_length=10)
    original_size = models.PositiveBigIntegerField()
    cover = models.FileField(upload_to=track_path, max_length=500, blank=True)

    state = models.CharField(max_length=10, choices=State.choices, default=State.UPLOADED)
    step = models.CharField(max_length=10, choices=Step.choices, blank=True)  # the step running or next
    failure_reason = models.CharField(max_length=255, blank=True)
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.VISIBLE)
    # Who may hear it besides its guild (visibility.py): nobody else, anyone with the secret link, anyone.
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.GUILD)
    secret = models.CharField(max_length=32, default=new_secret)  # the unlisted link's; reset makes a new one

    # Written by the probe.
    codec = models.CharField(max_length=20, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True)
    file_tags = models.JSONField(default=dict, blank=True)
    # Written by the later steps: storage names of what they made.
    peaks = models.CharField(max_length=500, blank=True)
    stream = models.CharField(max_length=500, blank=True)
    stream_size = models.PositiveBigIntegerField(null=True, blank=True)
    hls_files = models.JSONField(default=list, blank=True)  # master playlist first
    covers = models.JSONField(default=dict, blank=True)  # thumbnail size (px) → storage name

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    ready_at = models.DateTimeField(null=True, blank=True)
    # When the pipeline last moved on (the upload, then each finished step): one that stays still past
    # TRACK_STALLED_AFTER is failed by services.fail_stalled_tracks.
    progressed_at = models.DateTimeField(default=timezone.now)

    # The social layer's counts, kept by the services (services.py) with F() updates.
    like_count = models.PositiveIntegerField(default=0)
    repost_count = models.PositiveIntegerField(default=0)
    comment_count = models.PositiveIntegerField(default=0)
    play_count = models.PositiveIntegerField(default=0)  # distinct (listener, day) plays
    trending_score = models.FloatField(default=0.0)  # recomputed by tasks.recompute_trending
    # Title, tags, genre and artist names: what full-text search reads (selectors.search_tracks).
    search_text = models.TextField(blank=True, editable=False)

    # Artist tools (editing.py): credits, licence, a scheduled release and the download toggle.
    credits = models.TextField(max_length=2000, blank=True)
    licence = models.CharField(max_length=12, choices=Licence.choices, default=Licence.ALL_RIGHTS_RESERVED)
    release_at = models.DateTimeField(null=True, blank=True)
    # False while a scheduled release waits: only its owner sees it, until tasks.publish_released_tracks.
    released = models.BooleanField(default=True)
    downloadable = models.BooleanField(default=False)
    # A replacement of another track's audio, in the pipeline (editing.replace_audio): never listed,
    # never shown; once ready its media move onto `replaces` and the row goes.
    replaces = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="replacements")

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["guild", "-id"], name="track_guild_newest",
                                condition=Q(state="ready")),
                   models.Index(fields=["-trending_score"], name="track_trending",
                                condition=Q(state="ready", trending_score__gt=0)),
                   models.Index(fields=["progressed_at"], name="track_in_pipeline",
                                condition=Q(state__in=["uploaded", "processing"])),
                   models.Index(fields=["release_at"], name="track_release_waiting", condition=Q(released=False))]
        constraints = [
            models.CheckConstraint(condition=Q(state="failed") | Q(failure_reason=""),
                                   name="track_reason_only_when_failed"),
            models.CheckConstraint(condition=~Q(state="ready") | Q(duration_ms__isnull=False),
                                   name="track_ready_has_duration"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"

    @property
    def duration_text(self) -> str:
        """m:ss, or h:mm:ss for an hour and more."""
        if self.duration_ms is None:
            return ""
        minutes, seconds = divmod(round(self.duration_ms / 1000), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"

    @property
    def folder(self) -> str:
        return f"tracks/{self.key.hex}/"

    def stored_names(self) -> list[str]:
        """Every object this track keeps in storage."""
        names = [self.original.name, self.cover.name, self.peaks, self.stream, *self.hls_files,
                 *self.covers.values()]
        return [n for n in names if n]


class UploadDay(models.Model):
    """The audio a member uploaded on one UTC day, counted against TRACK_DAILY_SECONDS. It outlives the
    tracks (deleting one does not give its seconds back) and is kept two days."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upload_days")
    day = models.DateField()
    audio_ms = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="upload_day_once")]

    def __str__(self) -> str:
        return f"{self.user_id} uploaded {self.audio_ms} ms on {self.day}"


# --- the social layer ---------------------------------------------------------------------------
# Likes, reposts and plays are counted on the track (kept by the services with F() updates, so a
# page never counts rows); follows are between users, whatever guilds they share.

class TrackLike(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_likes")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="track_like_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="track_like_user_newest"),
                   models.Index(fields=["created_at"], name="track_like_created")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.track_id}"


class TrackRepost(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_reposts")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="reposts")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track"], name="track_repost_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="track_repost_user_newest"),
                   models.Index(fields=["created_at"], name="track_repost_created")]

    def __str__(self) -> str:
        return f"{self.user_id} reposted {self.track_id}"


class Follow(models.Model):
    """`follower` hears of what `followee` uploads and reposts (in their stream)."""

    follower = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="following")
    followee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followers")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["follower", "followee"], name="follow_once"),
            models.CheckConstraint(condition=~Q(follower=models.F("followee")), name="follow_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.follower_id} follows {self.followee_id}"


class TrackComment(models.Model):
    """A comment pinned to a moment of the track (SoundCloud's timed comments)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_comments")
    class Visibility(models.TextChoices):
        VISIBLE = "visible"
        HELD = "held"  # moderation holds it for review: only its author sees it
        REMOVED = "removed"  # removed by moderation: nobody sees it (the review queue keeps its text)

    body = models.TextField(max_length=1000)
    position_ms = models.PositiveIntegerField()
    visibility = models.CharField(max_length=8, choices=Visibility.choices, default=Visibility.VISIBLE)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position_ms", "id"]
        indexes = [models.Index(fields=["track", "position_ms"], name="track_comment_position")]
        constraints = [models.CheckConstraint(condition=~Q(body=""), name="track_comment_not_empty")]

    @property
    def position_text(self) -> str:
        minutes, seconds = divmod(self.position_ms // 1000, 60)
        return f"{minutes}:{seconds:02d}"

    def __str__(self) -> str:
        return f"{self.position_text} {self.body[:40]}"


class TrackPlay(models.Model):
    """One listener played the track on that (UTC) day: plays count once per listener per day. A
    signed-out listener (a public page, an embed) has no user but a `visitor` key (visibility.py)."""

    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="plays")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_plays",
                             null=True, blank=True)
    visitor = models.CharField(max_length=64, blank=True)
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "track", "day"], name="track_play_once_a_day"),
                       models.UniqueConstraint(fields=["visitor", "track", "day"], condition=Q(user__isnull=True),
                                               name="track_visitor_play_once_a_day")]
        indexes = [models.Index(fields=["created_at"], name="track_play_created")]

    def __str__(self) -> str:
        return f"{self.user_id} played {self.track_id} on {self.day}"


# --- playlists ----------------------------------------------------------------------------------
# A playlist may hold tracks of several guilds: who sees which of its tracks is decided when it is
# read (selectors.playlist_entries keeps to the viewer's readable tracks), not when it is written.

class Playlist(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="playlists")
    title = models.CharField(max_length=100)
    description = models.TextField(max_length=4000, blank=True)
    is_public = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="playlist_owner_recent")]
        constraints = [models.CheckConstraint(condition=~Q(title=""), name="playlist_title_not_empty")]

    def __str__(self) -> str:
        return self.title


class PlaylistEntry(models.Model):
    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="entries")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="playlist_entries")
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["playlist", "track"], name="playlist_track_once")]
        indexes = [models.Index(fields=["playlist", "position"], name="playlist_entry_order")]

    def __str__(self) -> str:
        return f"{self.playlist_id}#{self.position}: {self.track_id}"


class GuildTrackSettings(models.Model):
    """A guild's rules for its tracks (none stored: the defaults)."""

    guild = models.OneToOneField(Guild, on_delete=models.CASCADE, related_name="track_settings")
    allow_public = models.BooleanField(default=True)  # off: no track of the guild may be public

    def __str__(self) -> str:
        return f"{self.guild_id}: public tracks {'allowed' if self.allow_public else 'forbidden'}"
