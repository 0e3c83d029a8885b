"""What a gateway connection reads: the user's guilds and the channels they can view in each.
Visibility comes from the one permission engine (apps.guilds.selectors.visible_channels)."""
from __future__ import annotations

from collections import defaultdict

from django.db import connection
from django.db.models import F, IntegerField, Value

from apps.chat.payloads import thread_payload
from apps.chat.selectors import unread_counts
from apps.chat.thread_selectors import active_threads
from apps.dms.selectors import dm_list
from apps.guilds.layout import GuildLayout, guild_layout
from apps.guilds.models import Ban, DMRecipient, Member
from apps.guilds.selectors import member_of, visible_channels
from apps.notifications.models import ChannelSettings, GuildSettings
from apps.notifications.payloads import all_settings
from apps.notifications.selectors import settings_of

from . import payloads


def guild_ids(user) -> list[int]:
    """The user's guilds in the order they joined (guilds_of's order, read from the membership
    rows alone: READY runs it for every socket)."""
    return list(Member.objects.filter(user=user).order_by("joined_at", "guild_id").values_list("guild_id", flat=True))


def guild_entry(user, guild_id: int, *, unread: bool = True) -> tuple[dict | None, GuildLayout | None]:
    """{"id", "name", "channels"} with only the channels the user can view (and their unread and
    mention counts when `unread`), and the guild's layout; (None, None) when the user is not a member."""
    member = member_of(user, guild_id)
    if member is None:
        return None, None
    layout = guild_layout(member.guild)
    return _member_entry(member, unread=unread, layout=layout), layout


def _member_entry(member: Member, *, unread: bool, layout: GuildLayout | None = None) -> dict:
    """`layout`: the guild's cached layout (READY); its channels' last_message_id may be behind,
    so the unread counts read it again."""
    visible = [ch for ch, _ in visible_channels(member, layout=layout)]
    channels = [payloads.channel_entry(ch) for ch in visible]
    if unread:
        counts = unread_counts(member.user, [ch.id for ch in visible],
                               newest=None if layout else {ch.id: ch.last_message_id for ch in visible})
        for c in channels:
            c.update(counts[c["id"]])
    return payloads.guild_entry(member, channels)


def ready_guilds(user, ids: list[int]) -> list[tuple[dict, GuildLayout]]:
    """The READY guild list for the given memberships (a guild left meanwhile is skipped), each
    with its layout. A connect storm runs this once per socket: the memberships are read together,
    each guild's layout comes from the process's cache (apps.guilds.layout), and the unread counts
    of every guild's channels come from one read (and one more for the channels with news)."""
    members, role_ids = {}, defaultdict(list)
    # One row per membership and role of it (none: one row, role_id null); the roles themselves
    # come from the layout, which a role's save or deletion bumps.
    for m in (Member.objects.filter(user=user, guild_id__in=ids).select_related("guild")
              .annotate(role_id=F("roles__id"))):
        members.setdefault(m.guild_id, m)
        if m.role_id is not None:
            role_ids[m.guild_id].append(m.role_id)
    out = []
    for gid in ids:
        if (m := members.get(gid)) is not None:
            m.user = user
            layout = guild_layout(m.guild)
            set_roles(m, [layout.roles[r] for r in role_ids[gid] if r in layout.roles])
            out.append((_member_entry(m, unread=False, layout=layout), layout))
    # The layouts' last_message_id may be behind: unread_counts reads the newest ids itself.
    counts = unread_counts(user, [c["id"] for entry, _ in out for c in entry["channels"]])
    for entry, _ in out:
        for c in entry["channels"]:
            c.update(counts[c["id"]])
    return out


def set_roles(member: Member, roles: list) -> None:
    """`member.roles.all()` answers `roles` without a query, as prefetch_related("roles") would."""
    qs = member.roles.all()
    qs._result_cache, qs._prefetch_done = roles, True
    member._prefetched_objects_cache = {"roles": qs}


def is_banned(user, guild_id: int) -> bool:
    return Ban.objects.filter(guild_id=guild_id, user=user).exists()


def member_list(guild_id: int, limit: int) -> tuple[list[dict], int]:
    """Up to `limit` members of a guild by name, and how many there are in all."""
    members = (Member.objects.filter(guild_id=guild_id).select_related("user").prefetch_related("roles")
               .order_by("user__username")[:limit])
    out = [payloads.member_list_entry(m) for m in members]
    total = len(out) if len(out) < limit else Member.objects.filter(guild_id=guild_id).count()
    return out, total


def threads_under(entry: dict, layout: GuildLayout) -> dict[int, int]:
    """{thread id: parent id} for the threads under the entry's channels: a thread is visible
    exactly when its parent is."""
    shown = {c["id"] for c in entry["channels"]}
    return {t: p for t, p in layout.threads.items() if p in shown}


def relay_ids(entry: dict, thread_ids: dict[int, int]) -> set[int]:
    """The ids a connection relays events of: the entry's channels and every thread under them."""
    return {c["id"] for c in entry["channels"]} | set(thread_ids)


def with_threads(entry: dict, thread_ids: dict[int, int]) -> dict:
    """Add the active threads of the entry's channels (READY, GUILD_CREATE); `thread_ids` are all
    the threads under them (none: nothing to read)."""
    threads = active_threads(c["id"] for c in entry["channels"]) if thread_ids else []
    entry["threads"] = [thread_payload(t) for t in threads]
    return entry


def guild_state(user, guild_id: int, *, full: bool = True) -> tuple[dict | None, set[int]]:
    """guild_entry (`full`: with unread counts and active threads, as when a guild arrives; else
    the channels only) and the ids the connection may relay in that guild (none for a non-member)."""
    entry, layout = guild_entry(user, guild_id, unread=full)
    if entry is None:
        return None, set()
    thread_ids = threads_under(entry, layout)
    return (with_threads(entry, thread_ids) if full else entry), relay_ids(entry, thread_ids)


def ready_state(user, ids: list[int]) -> tuple[list[dict], dict[int, set[int]]]:
    """READY's guild list (each with its active threads) and the visible ids per guild."""
    guilds, visible = [], {}
    for entry, layout in ready_guilds(user, ids):
        thread_ids = threads_under(entry, layout)
        guilds.append(with_threads(entry, thread_ids))
        visible[entry["id"]] = relay_ids(entry, thread_ids)
    return guilds, visible


def ready_reads(user, ids: list[int]) -> tuple[list[dict], dict[int, set[int]], list[dict], dict]:
    """What READY carries for a user of those guilds (guild_ids, read once the connection has
    joined their groups): its guilds, the ids it may relay per guild, its DMs and its notification
    settings. Most users have no DM and no setting: one read tells, and the DMs and the settings
    are read only when there are some."""
    guilds, visible = ready_state(user, ids)
    kinds = _private_rows(user)
    private = dm_list(user) if _DM in kinds else []
    if kinds - {_DM}:
        notify = settings_of(user, guild_ids=ids, dm_ids=[c["id"] for c in private])
    else:
        notify = all_settings([], [])
    return guilds, visible, private, notify


_DM, _GUILD_SETTINGS, _CHANNEL_SETTINGS = 1, 2, 3


def _private_rows(user) -> set[int]:
    """Which of the user's DMs, guild settings and channel settings exist (a row of each at most)."""
    def first(qs, kind):
        qs = (qs.filter(user=user).annotate(kind=Value(kind, output_field=IntegerField())).values_list("kind")
              .order_by())
        return qs[:1] if connection.features.supports_slicing_ordering_in_compound else qs  # not SQLite

    rows = first(DMRecipient.objects, _DM).union(first(GuildSettings.objects, _GUILD_SETTINGS),
                                                  first(ChannelSettings.objects, _CHANNEL_SETTINGS), all=True)
    return {kind for (kind,) in rows}
