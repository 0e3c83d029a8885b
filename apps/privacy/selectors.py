"""Reads about a member's privacy requests."""
from __future__ import annotations

from django.apps import apps
from django.db.models import Q

from .models import DataExport, DeletionRequest


def owned_guild_names(user) -> list[str]:
    Guild = apps.get_model("guilds", "Guild")
    return list(Guild.objects.filter(owner=user).order_by("name").values_list("name", flat=True))


def pending_deletion(user) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user_id=user.pk).first()


def due_deletions(now) -> list[int]:
    return list(DeletionRequest.objects.filter(delete_after__lte=now).order_by("delete_after")
                .values_list("user_id", flat=True))


def running_export(user) -> DataExport | None:
    return DataExport.objects.filter(user_id=user.pk, state__in=[DataExport.State.PENDING,
                                                                  DataExport.State.RUNNING]).first()


def latest_export_since(user, since) -> DataExport | None:
    """The member's newest export asked for since `since` that did not fail (a failure does not
    count against the daily limit)."""
    return (DataExport.objects.filter(user_id=user.pk, created_at__gte=since)
            .filter(~Q(state=DataExport.State.FAILED)).order_by("-created_at").first())


def exports_of(user, *, limit: int = 10) -> list[DataExport]:
    return list(DataExport.objects.filter(user_id=user.pk).order_by("-id")[:limit])
