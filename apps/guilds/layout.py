"""A guild's layout: what every member's channel permissions are computed from besides which
roles the member has (the @everyone permissions, the roles' permissions, the top-level channels,
their overwrites, the threads under them). A gateway node computes it for each socket that
connects; in a reconnect storm thousands of members of one guild ask for the same layout within
seconds, so each process keeps it, keyed by the guild's `layout_version`. Every request that checks
a member's access to a channel (selectors.access_channel: each message sent) reads the @everyone
permissions and the overwrites from it too.

The version lives on the guild row, which every membership read already joins, so checking it
costs nothing; every process sees a bump at its next read. It is bumped by receivers on the
models' saves and deletes rather than by each service: the Django admin, data migrations and the
demo seed write these models too, and a layout that missed one of them would show a member a
channel it may no longer view. The two bulk writes that send no signal (reordering, a category's
deletion that empties its channels' category) bump it themselves.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from .models import Category, Channel, Guild, PermissionOverwrite, Role

LAYOUTS_PER_PROCESS = 2048


@dataclass(frozen=True)
class GuildLayout:
    everyone: int
    roles: dict[int, Role]  # every role of the guild by id, @everyone included; read-only (shared)
    channels: tuple[Channel, ...]  # top-level channels in order; read-only (shared by threads)
    overwrites: dict[int, tuple[PermissionOverwrite, ...]]  # by channel id
    threads: dict[int, int]  # thread id -> parent id, every thread under the channels


def guild_layout(guild: Guild) -> GuildLayout:
    """The guild's layout as of its current version (read from the database at most once per
    version and process)."""
    return _layout(guild.id, guild.created_at, guild.layout_version)


@functools.lru_cache(maxsize=LAYOUTS_PER_PROCESS)
def _layout(guild_id: int, created_at, version: int) -> GuildLayout:
    # created_at is in the key so that a guild id used again (a test database) never meets an old entry.
    roles = {r.id: r for r in Role.objects.filter(guild_id=guild_id)}
    everyone = next((r.permissions for r in roles.values() if r.is_default), 0)
    channels = tuple(Channel.objects.filter(guild_id=guild_id, parent__isnull=True))
    overwrites: dict[int, list] = {}
    for ow in PermissionOverwrite.objects.filter(channel__guild_id=guild_id).select_related("role"):
        overwrites.setdefault(ow.channel_id, []).append(ow)
    threads = dict(Channel.objects.filter(guild_id=guild_id, parent__isnull=False).values_list("id", "parent_id"))
    return GuildLayout(everyone=everyone, roles=roles, channels=channels,
                       overwrites={k: tuple(v) for k, v in overwrites.items()}, threads=threads)


def bump(guild_id: int | None) -> None:
    """The guild's layout changed: every process reads it again at its next use."""
    if guild_id is not None:
        Guild.objects.filter(pk=guild_id).update(layout_version=F("layout_version") + 1)


def _guild_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):  # fixtures: the guild row may not be loaded yet
        return
    bump(instance.guild_id)


def _overwrite_changed(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    Guild.objects.filter(channels__id=instance.channel_id).update(layout_version=F("layout_version") + 1)


def connect() -> None:
    """Called once the models are ready (apps.py). A channel's last_message_id moves with every
    message through update(), which sends nothing; a save of a field outside the layout (a thread's
    name) still bumps: it is rare and costs one read per process."""
    for model in (Channel, Role):
        post_save.connect(_guild_changed, sender=model, dispatch_uid=f"layout-save-{model.__name__}")
        post_delete.connect(_guild_changed, sender=model, dispatch_uid=f"layout-delete-{model.__name__}")
    post_delete.connect(_guild_changed, sender=Category, dispatch_uid="layout-delete-Category")
    post_save.connect(_overwrite_changed, sender=PermissionOverwrite, dispatch_uid="layout-save-overwrite")
    post_delete.connect(_overwrite_changed, sender=PermissionOverwrite, dispatch_uid="layout-delete-overwrite")
