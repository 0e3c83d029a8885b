"""A new gateway socket's reads before READY, in a reconnect storm's budget: two trips to
PostgreSQL in raw SQL, prepared once per pooled connection (prepared.py), with no ORM query built
per socket.

1. the session row (decoded in Python: its data is signed), with the user and the ids of its
   guilds in the same statement where the sessions page's row names the user;
   (the connection then joins its groups: an event published from here on waits in its inbox)
2. in one batch of statements: the memberships with their guild and role ids, every top-level
   channel's unread and mention counts, whether the user has any DM or notification setting, and
   the active threads.

What the rows mean comes from the same code as before: the guild layout (apps.guilds.layout),
the one permission engine (apps.guilds.selectors.visible_channels) and the payload builders. The
session is checked as Django's own `auth.get_user` checks it (backend, active user, the password's
session hash); any case that path would handle differently (another session engine or
authentication backend, a hash signed with an old secret, a token in place of a cookie) goes
through the general path in auth.py instead.
"""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import DateTimeField
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.accounts import events as account_events
from apps.accounts.models import UserSession
from apps.chat.models import Message, Thread
from apps.chat.payloads import thread_payload
from apps.core.events import guild_group, user_group
from apps.guilds.layout import LAYOUTS_PER_PROCESS, guild_layout
from apps.guilds.models import Channel, Guild, Member
from apps.guilds.selectors import visible_channels
from apps.notifications.payloads import all_settings

from . import payloads, prepared, selectors
from .auth import credentials_of
from .reads import cookies_of, header

_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(slots=True)
class Opened:
    user: object
    ids: list[int]  # the user's guilds, in the order they joined
    guilds: list[dict]
    visible: dict[int, set[int]]
    private: list[dict]
    notify: dict


def identify(scope, admit) -> tuple[object, list[int]] | None | bool:
    """Who the socket is: (the user, its guild ids); None: not signed in; False: `admit(user)` said
    no. The socket then joins its `groups`, and only once it is subscribed reads its state
    (`read_state`): an event published after that read reaches it."""
    user, ids = authenticate(scope)
    if not user.is_authenticated:
        return None
    if not admit(user):
        return False
    return user, ids


def groups(user, ids: list[int]) -> list[str]:
    """The groups a socket joins between its guild ids and READY's state."""
    return [user_group(user.id), *[guild_group(guild_id) for guild_id in ids]]


def read_state(user, ids: list[int]) -> Opened:
    """What READY carries, read once the socket is subscribed to its groups."""
    return Opened(user, ids, *ready_reads(user, ids))


# --- 1 and 2: the session, the user and its guild ids -----------------------------------------------


def authenticate(scope) -> tuple[object, list[int]]:
    """As auth.authenticate (sets the scope's `user`, `sign_in` and `auth_error`), and the user's
    guild ids, read with the user when the session cookie signs it in."""
    session_key = cookies_of(scope).get(settings.SESSION_COOKIE_NAME)
    found = _session_user(session_key) if _fast_path() and session_key else None
    if found is not None:
        user, ids = found
        scope["user"], scope["sign_in"], scope["auth_error"] = (
            user, account_events.session_sign_in(session_key), None)
        return user, ids
    scope["user"], scope["sign_in"], scope["auth_error"] = credentials_of(
        session_key, header(scope, b"authorization"))
    user = scope["user"]
    return user, (selectors.guild_ids(user) if user.is_authenticated else [])


@functools.cache
def _fast_path() -> bool:
    return (connection.vendor == "postgresql" and settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
            and _MODEL_BACKEND in settings.AUTHENTICATION_BACKENDS)


def _session_user(session_key: str):
    """(user, guild ids) of a valid session signed in through the model backend whose hash matches
    the user's password; None for anything else (no row, expired, another backend, an old hash:
    the general path decides, as before).

    The session's data is signed and often compressed, so SQL cannot read its user id; the row the
    sessions page keeps for each signed-in browser (accounts.UserSession, written on the browser's
    first page after sign-in, before its page opens a socket) names it, and the session, its user
    and the user's guild ids come in one statement. That row is only a hint: the user is the one the
    signed data names, read in a second statement when the hint is missing or names someone else."""
    row = _one(_session_sql(), [session_key, timezone.now()])
    if row is None:
        return None
    data = _session_decoder().decode(row[0])
    if data.get(BACKEND_SESSION_KEY) != _MODEL_BACKEND or not data.get(HASH_SESSION_KEY):
        return None
    model = auth.get_user_model()
    try:
        user_id = model._meta.pk.to_python(data[SESSION_KEY])
    except (KeyError, ValidationError):
        return None
    row = row[1:]
    if row[_user_fields().index(model._meta.pk.attname)] != user_id:  # no hint, or not this user's
        row = _one(_user_sql(), [user_id])
        if row is None:
            return None
    user = model.from_db(DEFAULT_DB_ALIAS, _user_fields(), row[:-1])
    if not getattr(user, "is_active", True):  # ModelBackend.user_can_authenticate
        return None
    if not constant_time_compare(data[HASH_SESSION_KEY], user.get_session_auth_hash()):
        return None  # a password changed, or a hash of an old secret: the general path flushes or rotates
    return user, list(row[-1])


@functools.cache
def _session_decoder() -> SessionStore:
    """One store for every socket's decode (stateless: a new store imports its serializer again)."""
    return SessionStore()


def _one(sql: str, params) -> tuple | None:
    if prepared.enabled():
        rows = prepared.fetch(sql, params)
        return rows[0] if rows else None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


@functools.cache
def _user_fields() -> list[str]:
    return [f.attname for f in auth.get_user_model()._meta.concrete_fields]


@functools.cache
def _user_sql() -> str:
    return f'SELECT {_user_columns()} FROM "{auth.get_user_model()._meta.db_table}" u WHERE u."id" = %s'


@functools.cache
def _session_sql() -> str:
    """The session's data, and the user its sessions-page row names with that user's guild ids."""
    model = auth.get_user_model()
    return (f"SELECT s.session_data, {_user_columns()} FROM django_session s "
            f"LEFT JOIN {UserSession._meta.db_table} us ON us.session_key = s.session_key "
            f'LEFT JOIN "{model._meta.db_table}" u ON u."id" = us.user_id '
            "WHERE s.session_key = %s AND s.expire_date > %s")


def _user_columns() -> str:
    """The user's columns, then its guild ids in the order joined."""
    model = auth.get_user_model()
    cols = ", ".join(f'u."{f.column}"' for f in model._meta.concrete_fields)
    return (f'{cols}, ARRAY(SELECT m.guild_id FROM {Member._meta.db_table} m WHERE m.user_id = u."id" '
            "ORDER BY m.joined_at, m.guild_id)")


# --- 3: READY's state ------------------------------------------------------------------------------


def ready_reads(user, ids: list[int]) -> tuple[list[dict], dict[int, set[int]], list[dict], dict]:
    """selectors.ready_reads, in one trip (PostgreSQL; the general path elsewhere)."""
    if connection.vendor != "postgresql":
        return selectors.ready_reads(user, ids)
    if not ids:
        memberships, counts, kinds, threads = [], {}, _kinds(user.id), []
    else:
        memberships, counts, kinds, threads = _state_rows(user.id, ids)
    guilds, visible = _guilds(user, ids, memberships, counts, threads)
    private = selectors.dm_list(user) if _DM in kinds else []
    if kinds - {_DM}:
        notify = selectors.settings_of(user, guild_ids=ids, dm_ids=[c["id"] for c in private])
    else:
        notify = all_settings([], [])
    return guilds, visible, private, notify


_DM = 1


def _kinds(user_id: int) -> set[int]:
    if prepared.enabled():
        return {kind for (kind,) in prepared.fetch(_KINDS_SQL, {"u": user_id})}
    with connection.cursor() as cursor:
        cursor.execute(_KINDS_SQL, {"u": user_id})
        return {kind for (kind,) in cursor.fetchall()}


def _state_rows(user_id: int, ids: list[int]):
    params = {"u": user_id, "ids": list(ids), "visible": Message.Visibility.VISIBLE.value}
    if prepared.enabled():  # prepared, in one trip
        rows = prepared.fetch_many(_statements(), params)
    else:
        rows = _text_rows(params)
    memberships, unread, kinds, threads = rows
    counts = {cid: {"unread": n or 0, "mentions": m or 0} for cid, n, m in unread}
    return memberships, counts, {kind for (kind,) in kinds}, threads


def _text_rows(params) -> list[list[tuple]]:
    with connection.cursor() as cursor:
        if _server_side_binding():  # one statement per execute
            rows = []
            for sql in _statements():
                cursor.execute(sql, params)
                rows.append(cursor.fetchall())
        else:  # client-side binding: the statements in one trip
            cursor.execute(";\n".join(_statements()), params)
            rows = [cursor.fetchall()]
            while cursor.nextset():
                rows.append(cursor.fetchall())
    return rows


@functools.cache
def _statements() -> tuple[str, ...]:
    return _memberships_sql(), _UNREAD_SQL, _KINDS_SQL, _threads_sql()


def _server_side_binding() -> bool:
    return bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


_GUILD_FIELDS = [f.attname for f in Guild._meta.concrete_fields]


# The memberships and the threads are read by the user's id alone, not also by the guild ids of
# the first trip: with an array of ids PostgreSQL planned the prepared statements again for every
# socket (a plan for one array is cheaper than the generic one); by the user alone it keeps one plan.
# A guild joined between the two trips is skipped by _guilds (the socket did not join its group).
@functools.cache
def _memberships_sql() -> str:
    gcols = ", ".join(f'g."{f.column}"' for f in Guild._meta.concrete_fields)
    return ('SELECT m.id, m.nickname, m.joined_at, m.timed_out_until, '
            'ARRAY(SELECT mr.role_id FROM guilds_member_roles mr WHERE mr.member_id = m.id), '
            f'{gcols} FROM guilds_member m JOIN guilds_guild g ON g.id = m.guild_id '
            'WHERE m.user_id = %(u)s')


# Every top-level channel of those guilds with its unread and mention counts (capped at 100, as
# apps.chat.selectors.unread_counts counts them: visible messages of others past the read marker);
# the channels the member cannot view are dropped in Python. The counts are read only for the
# channels whose newest message is past the marker.
_UNREAD_SQL = """
SELECT c.id, n.unread, n.mentions
FROM guilds_channel c
LEFT JOIN chat_readstate r ON r.channel_id = c.id AND r.user_id = %(u)s
LEFT JOIN LATERAL (
    SELECT count(*) AS unread, count(*) FILTER (WHERE x.mentioned) AS mentions FROM (
        SELECT (msg.mention_everyone
                OR EXISTS (SELECT 1 FROM chat_message_mentions mm
                           WHERE mm.message_id = msg.id AND mm.user_id = %(u)s)
                OR EXISTS (SELECT 1 FROM chat_message_mention_roles mr
                           JOIN guilds_member_roles gmr ON gmr.role_id = mr.role_id
                           JOIN guilds_member gm ON gm.id = gmr.member_id
                           WHERE mr.message_id = msg.id AND gm.user_id = %(u)s)) AS mentioned
        FROM chat_message msg
        WHERE msg.channel_id = c.id AND msg.id > COALESCE(r.last_read_id, 0) AND msg.visibility = %(visible)s
          AND msg.author_id IS DISTINCT FROM %(u)s
        ORDER BY msg.id LIMIT 100) x
) n ON COALESCE(c.last_message_id, 0) > COALESCE(r.last_read_id, 0)
WHERE c.guild_id = ANY(%(ids)s) AND c.parent_id IS NULL"""

_THREAD_FIELDS = [f.attname for f in Thread._meta.concrete_fields]
_CHANNEL_FIELDS = [f.attname for f in Channel._meta.concrete_fields]


@functools.cache
def _threads_sql() -> str:
    """Every active thread of the user's guilds, with its channel and its member count, most recently
    active first (apps.chat.thread_selectors.active_threads; the threads under channels the member
    cannot view are dropped in Python)."""
    tcols = ", ".join(_column("t", f) for f in Thread._meta.concrete_fields)
    ccols = ", ".join(_column("ch", f) for f in Channel._meta.concrete_fields)
    return (f"SELECT {tcols}, {ccols}, (SELECT count(*) FROM chat_threadmember tm WHERE tm.thread_id = t.channel_id) "
            "FROM chat_thread t JOIN guilds_channel ch ON ch.id = t.channel_id "
            "JOIN guilds_member m ON m.guild_id = ch.guild_id AND m.user_id = %(u)s "
            "WHERE ch.parent_id IS NOT NULL AND NOT t.archived "
            "ORDER BY t.last_message_at DESC, t.channel_id DESC")


def _column(table: str, field) -> str:
    # A thread row's times come as text, read into datetimes only when the row is new to this
    # process (_thread_entry): loading them was a sixth of a READY's CPU, for rows that are the same
    # for every member of the guild.
    if isinstance(field, DateTimeField):
        return f'{table}."{field.column}"::text'
    return f'{table}."{field.column}"'


_THREAD_TIMES = tuple(i for i, f in enumerate((*Thread._meta.concrete_fields, *Channel._meta.concrete_fields))
                      if isinstance(f, DateTimeField))


def _thread_payloads(rows) -> dict[int, list[tuple[int, dict]]]:
    """{guild id: [(parent id, thread payload), ...]} in the rows' order."""
    out: dict[int, list] = {}
    for row in rows:
        guild_id, parent_id, payload = _thread_entry(row)
        out.setdefault(guild_id, []).append((parent_id, payload))
    return out


@functools.lru_cache(maxsize=4096)
def _thread_entry(row: tuple) -> tuple[int, int, dict]:
    """A thread's row read: its guild, its parent and its payload. Every member of a guild reads the
    same rows for its active threads, so in a reconnect storm each row is read once per process and
    the payload shared (read-only) until the thread changes (a new message, member or name is
    another row). The rows hold no mutable value (ints, text, booleans; times as text in the
    session's time zone, UTC, as PostgreSQL writes them: ISO 8601 with a space)."""
    row = list(row)
    for i in _THREAD_TIMES:
        if row[i] is not None:
            row[i] = datetime.datetime.fromisoformat(row[i])
    n = len(_THREAD_FIELDS)
    thread = Thread.from_db(DEFAULT_DB_ALIAS, _THREAD_FIELDS, row[:n])
    thread.channel = Channel.from_db(DEFAULT_DB_ALIAS, _CHANNEL_FIELDS, row[n:-1])
    thread.member_count = row[-1]
    return thread.channel.guild_id, thread.channel.parent_id, thread_payload(thread)


# Which of the user's DMs, guild settings and channel settings exist (a row of each at most).
_KINDS_SQL = """
(SELECT 1 FROM guilds_dmrecipient WHERE user_id = %(u)s LIMIT 1) UNION ALL
(SELECT 2 FROM notifications_guildsettings WHERE user_id = %(u)s LIMIT 1) UNION ALL
(SELECT 3 FROM notifications_channelsettings WHERE user_id = %(u)s LIMIT 1)"""


def _guilds(user, ids, memberships, counts, threads) -> tuple[list[dict], dict[int, set[int]]]:
    threads = _thread_payloads(threads)
    by_guild = {}
    for member_id, nickname, joined_at, timed_out_until, role_ids, *guild_row in memberships:
        guild = Guild.from_db(DEFAULT_DB_ALIAS, _GUILD_FIELDS, guild_row)
        member = Member(id=member_id, guild_id=guild.id, user_id=user.id, nickname=nickname, joined_at=joined_at,
                        timed_out_until=timed_out_until)
        member._state.adding, member._state.db = False, DEFAULT_DB_ALIAS
        member.guild, member.user = guild, user
        by_guild[guild.id] = (member, role_ids)
    guilds, visible = [], {}
    for gid in ids:
        if gid not in by_guild:  # left since its id was read
            continue
        member, role_ids = by_guild[gid]
        layout = guild_layout(member.guild)
        role_ids = [r for r in role_ids if r in layout.roles]
        view = _view(member, role_ids, layout)
        channels = [{**entry, **counts.get(entry["id"], _NO_NEWS)} for entry in view.channels]
        entry = payloads.guild_entry(member, channels, role_ids=role_ids)
        entry["threads"] = [t for parent, t in threads.get(gid, ()) if parent in view.shown]
        guilds.append(entry)
        visible[gid] = set(view.relayed)
    return guilds, visible


_NO_NEWS = {"unread": 0, "mentions": 0}


@dataclass(frozen=True, slots=True)
class View:
    """What a member sees of a guild: READY's channel entries (without counts), their ids, and the
    ids a connection relays (those and every thread under them)."""
    channels: tuple[dict, ...]  # shared: copied before counts are added
    shown: frozenset[int]
    relayed: frozenset[int]


VIEWS_PER_LAYOUT = 512


def _view(member: Member, role_ids: list[int], layout) -> View:
    """The member's view of its guild. Members whose permissions come from the same things (owner
    or not, the same roles, timed out or not, no overwrite of their own) see the same channels:
    their view is computed once per guild layout version and process, as the layout itself
    (apps/guilds/layout.py: a save or deletion of a channel, role or overwrite bumps the version).
    A guild that requires two-factor authentication, or a member with an overwrite of their own,
    is computed for each socket."""
    guild = member.guild
    views = _views(guild.id, guild.created_at, guild.layout_version)
    if views.own is None:  # `layout` is of this same version
        views.own = frozenset(ow.member_id for ows in layout.overwrites.values() for ow in ows if ow.member_id)
    key = None
    if not guild.mfa_required and member.id not in views.own:
        key = (guild.owner_id == member.user_id, frozenset(role_ids), member.is_timed_out)
        if (view := views.seen.get(key)) is not None:
            return view
    selectors.set_roles(member, [layout.roles[r] for r in role_ids])
    channels = tuple(payloads.channel_entry(ch) for ch, _ in visible_channels(member, layout=layout))
    entry = {"channels": channels}
    view = View(channels, frozenset(c["id"] for c in channels),
                frozenset(selectors.relay_ids(entry, selectors.threads_under(entry, layout))))
    if key is not None:
        if len(views.seen) >= VIEWS_PER_LAYOUT:  # a guild with very many role combinations: start again
            views.seen = {}
        views.seen[key] = view
    return view


class _Views:
    __slots__ = ("own", "seen")

    def __init__(self):
        self.own: frozenset[int] | None = None  # members with an overwrite of their own
        self.seen: dict[tuple, View] = {}


@functools.lru_cache(maxsize=LAYOUTS_PER_PROCESS)
def _views(guild_id: int, created_at, version: int) -> _Views:
    """The views of one guild version computed so far in this process (READY threads share them:
    a race computes a view twice, never a wrong one)."""
    return _Views()
