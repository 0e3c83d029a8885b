"""Audio tracks: what a member uploaded to a guild, and what the media pipeline made of it.

A track's files live under one random folder (`tracks/<key>/`): the original as uploaded, the
waveform peaks, a progressive AAC stream and an HLS ladder, and WebP cover thumbnails. The row
records where the pipeline is (`state`, `step`) so the uploader sees its progress, and why it
failed when it did."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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


class Track(models.Model):
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

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["guild", "-id"], name="track_guild_newest",
                                condition=Q(state="ready"))]
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
