"""What a member asked of their own data: to have the account deleted after a grace period, and
copies of it (exports)."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DeletionRequest(models.Model):
    """The account is deleted at `delete_after` (a beat job) unless its owner signs in before."""

    class Messages(models.TextChoices):
        ANONYMISE = "anonymise", _("Keep my messages, shown as from “Deleted user”")
        REMOVE = "remove", _("Delete my messages")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deletion_request")
    requested_at = models.DateTimeField(default=timezone.now, editable=False)
    delete_after = models.DateTimeField()
    messages = models.CharField(max_length=9, choices=Messages.choices, default=Messages.ANONYMISE)

    class Meta:
        indexes = [models.Index(fields=["delete_after"], name="deletion_due")]

    def __str__(self) -> str:
        return f"delete {self.user_id} after {self.delete_after:%Y-%m-%d}"


def export_path(export: DataExport, filename: str) -> str:
    # A random folder: the name cannot be guessed, even where the media folder is served.
    return f"exports/{export.user_id}/{export.key.hex}/{filename}"


class DataExport(models.Model):
    """One zip of a member's data, built by a Celery worker, downloadable by a signed link until
    `expires_at`, then deleted with its file."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"

    key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    file = models.FileField(upload_to=export_path, max_length=500, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True)
    # The language of the page it was asked from: the words of its email.
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_user_recent")]
        constraints = [
            # One export at a time per member, whatever races: the database refuses a second.
            models.UniqueConstraint(fields=["user"], condition=Q(state__in=["pending", "running"]),
                                    name="export_one_running_per_user"),
        ]

    def __str__(self) -> str:
        return f"export {self.id} of {self.user_id} ({self.state})"
