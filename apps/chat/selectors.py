"""Reads of messages: history pages, one message, pins, unread counts."""
from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext

from apps.core.converters import MAX_ID
from apps.core.errors import NotFound, ValidationFailed
from apps.guilds.models import Channel, Member
from apps.guilds.permissions import Permission
from apps.guilds.selectors import (
    ChannelAccess,
    access_channel,
    access_guild,
    guilds_of,
    member_of,
    visible_channels,
    visible_thread_ids,
)

from .models import Attachment, Message, Reaction, ReadState


def shown_to(viewer: ChannelAccess | None) -> Q:
    """The messages a viewer may see: visible ones, plus held ones (waiting for review) to their
    author and to moderators (MANAGE_MESSAGES in the channel). Without a viewer, visible ones only.
    Removed messages are seen by nobody here (the admin's review queue keeps them)."""
    q = Q(visibility=Message.Visibility.VISIBLE)
    if viewer is None:
        return q
    if viewer.permissions & Permission.MANAGE_MESSAGES:
        return q | Q(visibility=Message.Visibility.HELD)
    return q | Q(visibility=Message.Visibility.HELD, author_id=viewer.member.user_id)


def _with_related(qs: QuerySet[Message]) -> QuerySet[Message]:
    return qs.select_related("author", "reply_to__author").prefetch_related(
        Prefetch("reactions", queryset=Reaction.objects.only("id", "message_id", "user_id", "emoji")),
        "attachments",
    )


def history(channel: Channel, *, viewer: ChannelAccess | None = None, before: int | None = None,
            after: int | None = None, around: int | None = None, limit: int = 50) -> list[Message]:
    """A page of a channel's messages the viewer may see (`shown_to`), oldest first. One of
    before/after/around, or the newest page.
    Every branch is an index range scan on (channel, id), whatever the depth."""
    if sum(x is not None for x in (before, after, around)) > 1:
        raise ValidationFailed(gettext("Use only one of before, after and around."), code="invalid_cursor")
    if not 1 <= limit <= settings.HISTORY_PAGE_MAX:
        raise ValidationFailed.field("limit", gettext("Between 1 and %(n)s.") % {"n": settings.HISTORY_PAGE_MAX})
    base = _with_related(Message.objects.filter(shown_to(viewer), channel=channel))
    # Ordering by (channel_id, id) and not id alone matches the composite index, so the planner
    # never walks the primary key backwards through other channels' rows.
    forward, backward = ("channel_id", "id"), ("-channel_id", "-id")
    if after is not None:
        return list(base.filter(id__gt=after).order_by(*forward)[:limit])
    if around is not None:
        older = list(base.filter(id__lt=around).order_by(*backward)[: limit // 2])
        newer = list(base.filter(id__gte=around).order_by(*forward)[: limit - len(older)])
        return older[::-1] + newer
    if before is None:
        # The newest page is bounded by the channel's last message id: left unbounded, a channel
        # holding most rows tempts the planner into a primary-key scan that steps over every
        # newer row of the other channels.
        last = Channel.objects.filter(pk=channel.pk).values_list("last_message_id", flat=True).first()
        if last is None:
            return []
        before = last + 1
    return list(base.filter(id__lt=before).order_by(*backward)[:limit])[::-1]


def message_in(channel: Channel, message_id: int, *, viewer: ChannelAccess | None = None) -> Message:
    msg = _with_related(Message.objects.filter(shown_to(viewer), channel=channel, pk=message_id)).first()
    if msg is None:
        raise NotFound(gettext("Unknown message."), code="unknown_message")
    return msg


def pins(channel: Channel, *, viewer: ChannelAccess | None = None) -> list[Message]:
    pinned = Message.objects.filter(shown_to(viewer), channel=channel, pinned_at__isnull=False)
    return list(_with_related(pinned).order_by("-pinned_at"))


def reaction_summary(message: Message, viewer_id: int | None) -> list[dict]:
    """[{emoji, count, me}] in the order each emoji was first used."""
    out: dict[str, dict] = {}
    for r in sorted(message.reactions.all(), key=lambda r: r.id):
        entry = out.setdefault(r.emoji, {"emoji": r.emoji, "count": 0, "me": False})
        entry["count"] += 1
        entry["me"] = entry["me"] or r.user_id == viewer_id
    return list(out.values())


def unread_counts(user, channel_ids: list[int], *, newest: dict[int, int | None] | None = None) -> dict[int, dict]:
    """{channel_id: {"unread": n, "mentions": m}} for the given channels (counts capped at 100).
    `newest`: each channel's last_message_id, when the caller has just read the channels."""
    if not channel_ids:
        return {}
    if newest is None:  # the newest ids and the read markers in one query
        marker = ReadState.objects.filter(user=user, channel_id=OuterRef("pk")).values("last_read_id")[:1]
        rows = list(Channel.objects.filter(id__in=channel_ids)
                    .values_list("id", "last_message_id", Subquery(marker)))
        newest = {cid: last for cid, last, _ in rows}
        last_read = {cid: read for cid, _, read in rows if read is not None}
    else:
        last_read = dict(ReadState.objects.filter(user=user, channel_id__in=channel_ids)
                         .values_list("channel_id", "last_read_id"))
    out = {cid: {"unread": 0, "mentions": 0} for cid in channel_ids}
    # Only channels whose newest message is past the read marker are read further.
    behind = {c: last_read.get(c, 0) for c in channel_ids if (newest.get(c) or 0) > last_read.get(c, 0)}
    for cid, mentioned in _unread_messages(user, behind):
        out[cid]["unread"] += 1
        out[cid]["mentions"] += mentioned
    return out


UNREAD_CAP = 100


def _unread_messages(user, after: dict[int, int]):
    """(channel id, whether it mentions the user) for up to UNREAD_CAP messages past each
    channel's marker (`after`), in one query where the database allows (a READY reads every
    channel with news; a query each would cost a trip each)."""
    if not after:
        return []
    if len(after) == 1 or not connection.features.supports_slicing_ordering_in_compound:
        return [row for cid, marker in after.items() for row in _unread_part(cid, marker, user.id)]
    # Building the ORM query costs far more than running it (a READY in a reconnect storm built
    # one part per channel with news): the part is compiled once per process, and the union of
    # n parts is its SQL n times, with each part's own channel, marker and user as parameters.
    sql, slots = _unread_part_sql()
    params = [param for cid, marker in after.items()
              for param in (slot if slot not in _UNREAD_SLOTS else (cid, marker, user.id)[_UNREAD_SLOTS.index(slot)]
                            for slot in slots)]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join([f"({sql})"] * len(after)), params)
        return cursor.fetchall()


def _unread_part(channel_id: int, marker: int, user_id: int):
    mentioned = ExpressionWrapper(
        Q(mention_everyone=True)
        | Exists(Message.mentions.through.objects.filter(message_id=OuterRef("pk"), user_id=user_id))
        | Exists(Message.mention_roles.through.objects.filter(message_id=OuterRef("pk"),
                                                              role__members__user_id=user_id)),
        output_field=BooleanField())
    return (Message.objects.filter(channel_id=channel_id, id__gt=marker, visibility=Message.Visibility.VISIBLE)
            .exclude(author_id=user_id).order_by("id").annotate(mentioned=mentioned)
            .values_list("channel_id", "mentioned")[:UNREAD_CAP])


# Stand-ins for a part's channel, marker and user while it is compiled (no real id is negative).
_UNREAD_SLOTS = (-101, -102, -103)


@functools.cache
def _unread_part_sql() -> tuple[str, tuple]:
    """One part's SQL and its parameters, the channel, marker and user as _UNREAD_SLOTS."""
    sql, params = _unread_part(*_UNREAD_SLOTS).query.sql_with_params()
    assert set(_UNREAD_SLOTS) <= set(params), "a part must take its channel, marker and user as parameters"
    return sql, tuple(params)


def readable_attachment(user, attachment_id: int) -> Attachment:
    """An attachment the user may download: of a channel they can view, and either sent with a
    message they may read or their own unsent upload. NotFound otherwise (nothing is revealed)."""
    att = Attachment.objects.filter(pk=attachment_id).first()
    if att is None:
        raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")
    access = access_channel(user, att.channel_id)
    if att.message_id is not None:
        if not access.permissions & Permission.READ_MESSAGE_HISTORY:
            raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")
        # A message held or removed by moderation takes its files with it.
        if not Message.objects.filter(shown_to(access), pk=att.message_id).exists():
            raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")
        return att
    if att.sent_at is None and att.uploader_id == getattr(user, "id", None):
        return att
    raise NotFound(gettext("Unknown attachment."), code="unknown_attachment")


# --- search and the mentions inbox ---
# The searchable channels and the inbox's channels come from the one permission engine
# (visible_channels): a message of a channel the member cannot view, or whose history it cannot
# read, is never matched, so it can neither appear nor be counted.

SEARCH_CONFIG = "smartc_search"  # `simple` + unaccent, created by migration chat 0002
SEARCH_QUERY_MAX = 256
SEARCH_WORDS_MAX = 16
SEARCH_LIMIT_MAX = 25
SEARCH_TOTAL_CAP = 1000  # results are ranked among the newest 1,000 matches; the count stops there
SEARCH_HAS = ("link", "attachment")
MENTIONS_LIMIT_MAX = 50
_WORD = re.compile(r"[^\W_]+")
_FILTER = re.compile(r"(?<!\S)(from|in|has|before|after):(\S+)", re.I)
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"  # private-use characters, stripped from content first


@dataclass
class SearchPage:
    total: int
    capped: bool
    messages: list[Message] = field(default_factory=list)  # each with .snippet (HTML, only <mark>)


class _TsVector(Func):
    # The exact expression of the GIN index message_content_search, so the planner uses it.
    template = f"to_tsvector('{SEARCH_CONFIG}'::regconfig, %(expressions)s)"


class _TsQuery(Func):
    template = f"to_tsquery('{SEARCH_CONFIG}'::regconfig, %(expressions)s)"


class _Headline(Func):
    template = f"ts_headline('{SEARCH_CONFIG}'::regconfig, %(expressions)s)"


def searchable_channel_ids(member) -> list[int]:
    """The member's channels whose history it may read (VIEW_CHANNEL and READ_MESSAGE_HISTORY)."""
    needed = Permission.VIEW_CHANNEL | Permission.READ_MESSAGE_HISTORY
    ids = [ch.id for ch, perms in visible_channels(member) if perms & needed == needed]
    return ids + list(visible_thread_ids(ids))  # a thread is readable exactly when its parent is


def _bound(value, name: str, *, cursor: bool):
    """A message id, or an ISO date/datetime, for before/after. A bare date means the whole day:
    before:2025-05-01 ends before that day starts, after:2025-05-01 starts once it ends."""
    if value in (None, ""):
        return None
    value = str(value).strip()
    if value.isdigit() and len(value) <= 19 and int(value) <= MAX_ID:  # an id a column holds
        return int(value)
    when = None
    try:
        when = parse_datetime(value)
        if when is None and (day := parse_date(value)) is not None:
            when = datetime.combine(day, datetime.min.time())
            if not cursor:
                when += timedelta(days=1)
    except ValueError:
        when = None
    if when is None:
        raise ValidationFailed.field(name, gettext("Use a message id or a date such as 2025-05-01."))
    return when if timezone.is_aware(when) else timezone.make_aware(when, UTC)


def _parse_filters(member, q: str, filters: dict) -> tuple[str, dict]:
    """Pull `from:name in:channel has:link before:… after:…` out of the text into the filters."""
    def resolve(match):
        key, value = match.group(1).lower(), match.group(2)
        if key == "from":
            name = value.lstrip("@")
            found = (Member.objects.filter(guild_id=member.guild_id)
                     .filter(Q(user__username__iexact=name) | Q(nickname__iexact=name)
                             | Q(user__display_name__iexact=name)).values_list("user_id", flat=True).first())
            if found is None:
                raise ValidationFailed.field("q", gettext("No member named %(name)s.") % {"name": name})
            filters["author_id"] = found
        elif key == "in":
            name = value.lstrip("#")
            found = next((ch.id for ch, _ in visible_channels(member) if ch.name.lower() == name.lower()), None)
            if found is None:
                raise ValidationFailed.field("q", gettext("No channel named #%(name)s.") % {"name": name})
            filters["channel_id"] = found
        elif key == "has":
            filters["has"] = [*filters.get("has", []), value.lower()]
        else:
            filters[key] = value
        return " "
    return _FILTER.sub(resolve, q).strip(), filters


def search_messages(member, *, q: str = "", author_id: int | None = None, channel_id: int | None = None,
                    before=None, after=None, has=(), limit: int = SEARCH_LIMIT_MAX, offset: int = 0) -> SearchPage:
    """Messages of the member's guild matching the words of `q` (every word, each as a prefix
    from three letters on, accents ignored) and the filters, best match first then newest."""
    q = q or ""
    if len(q) > SEARCH_QUERY_MAX:
        raise ValidationFailed.field("q", gettext("A search is at most %(n)s characters.") % {"n": SEARCH_QUERY_MAX})
    if not 1 <= limit <= SEARCH_LIMIT_MAX:
        raise ValidationFailed.field("limit", gettext("Between 1 and %(n)s.") % {"n": SEARCH_LIMIT_MAX})
    if not 0 <= offset < SEARCH_TOTAL_CAP:
        raise ValidationFailed.field("offset", gettext("Between 0 and %(n)s.") % {"n": SEARCH_TOTAL_CAP - 1})
    text, f = _parse_filters(member, q, {"author_id": author_id, "channel_id": channel_id, "before": before,
                                         "after": after, "has": list(has or ())})
    words = [w.lower() for w in _WORD.findall(text)]
    if text and not words:
        raise ValidationFailed.field("q", gettext("Search for at least one word."))
    if len(words) > SEARCH_WORDS_MAX:
        raise ValidationFailed.field("q", gettext("A search has at most %(n)s words.") % {"n": SEARCH_WORDS_MAX})
    if bad := [h for h in f["has"] if h not in SEARCH_HAS]:
        raise ValidationFailed.field("has", gettext("Unknown filter has:%(value)s.") % {"value": bad[0]})
    if not words and not any(f[k] for k in ("author_id", "channel_id", "before", "after", "has")):
        raise ValidationFailed.field("q", gettext("Type something to search for, or choose a filter."))

    channel_ids = searchable_channel_ids(member)
    if f["channel_id"] is not None:
        channel_ids = [c for c in channel_ids if c == f["channel_id"]]
    qs = Message.objects.filter(_own_or_visible(member.user_id), channel_id__in=channel_ids)
    if f["author_id"] is not None:
        qs = qs.filter(author_id=f["author_id"])
    for key, op in (("before", "lt"), ("after", "gt")):
        bound = _bound(f[key], key, cursor=key == "before")
        if isinstance(bound, int):
            qs = qs.filter(**{f"id__{op}": bound})
        elif bound is not None:
            qs = qs.filter(**{f"created_at__{op if key == 'before' else 'gte'}": bound})
    if "link" in f["has"]:
        qs = qs.filter(Q(content__contains="http://") | Q(content__contains="https://"))
    if "attachment" in f["has"]:
        qs = qs.filter(attachment_count__gt=0)

    postgres = connection.vendor == "postgresql"
    tsquery = " & ".join(f"'{w}':*" if len(w) >= 3 else f"'{w}'" for w in words)
    if words and postgres:
        page_ids, count = _ranked_page(qs.filter(_match(tsquery)), tsquery, limit=limit, offset=offset)
    else:
        for w in words:  # SQLite (make run): every word somewhere in the text, newest first
            qs = qs.filter(content__icontains=w)
        newest = list(qs.order_by("-id").values_list("id", flat=True)[: SEARCH_TOTAL_CAP + 1])
        page_ids, count = newest[offset: offset + limit], len(newest)
    found = {m.id: m for m in _search_related(Message.objects.filter(id__in=page_ids), tsquery if postgres else None)}
    page = [found[i] for i in page_ids if i in found]
    for msg in page:
        msg.snippet = _snippet(msg, words)
    return SearchPage(total=min(count, SEARCH_TOTAL_CAP), capped=count > SEARCH_TOTAL_CAP, messages=page)


def _own_or_visible(user_id: int) -> Q:
    """Search spans channels: held messages are found by their author only (moderators review
    them in the queue)."""
    return Q(visibility=Message.Visibility.VISIBLE) | Q(visibility=Message.Visibility.HELD, author_id=user_id)


def _ranked_page(qs: QuerySet[Message], tsquery: str, *, limit: int, offset: int) -> tuple[list[int], int]:
    """One page of the matches ranked by relevance, then newest, and how many matches (up to the
    cap + 1). Only the newest matches are ranked: that read is bounded (an index scan that stops
    at the cap) whatever the word, where ranking every match of a common word would read them all."""
    candidates = qs.order_by("-id").values("id", "content")[: SEARCH_TOTAL_CAP + 1]
    try:
        sql, params = candidates.query.sql_with_params()
    except EmptyResultSet:  # no channel to search, or a filter that nothing can match
        return [], 0
    # The (cap + 1)th match only tells that there are more: it is counted, not ranked.
    ranked = ("SELECT r.id, r.total FROM (SELECT c.id, c.content, count(*) OVER () AS total,"
              f" row_number() OVER (ORDER BY c.id DESC) AS n FROM ({sql}) c) r WHERE r.n <= %s"
              f" ORDER BY ts_rank(to_tsvector('{SEARCH_CONFIG}'::regconfig, r.content),"
              f" to_tsquery('{SEARCH_CONFIG}'::regconfig, %s), 1) DESC, r.id DESC LIMIT %s OFFSET %s")
    with connection.cursor() as cursor:
        cursor.execute(ranked, [*params, SEARCH_TOTAL_CAP, tsquery, limit, offset])
        rows = cursor.fetchall()
    if rows:
        return [r[0] for r in rows], rows[0][1]
    return [], candidates.count() if offset else 0


def _match(tsquery: str):
    return Func(_TsVector(F("content")), _TsQuery(Value(tsquery)), template="%(expressions)s", arg_joiner=" @@ ",
                output_field=BooleanField())


def _search_related(qs: QuerySet[Message], tsquery: str | None) -> QuerySet[Message]:
    qs = qs.select_related("author", "channel", "reply_to__author").prefetch_related("mentions", "mention_roles")
    if tsquery:
        # ts_headline drops what its parser takes for tags (and mentions like <@8> with them), so it
        # reads the content already HTML-escaped: its output is then escaped text plus the markers.
        clean = Func(F("content"), Value(_MARK_OPEN + _MARK_CLOSE), Value(""), function="translate")
        for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
            clean = Func(clean, Value(char), Value(entity), function="replace")
        options = f"StartSel={_MARK_OPEN}, StopSel={_MARK_CLOSE}, MaxWords=40, MinWords=15"
        qs = qs.annotate(headline=_Headline(clean, _TsQuery(Value(tsquery)), Value(options), output_field=TextField()))
    return qs


_SNIPPET_CHARS = 300
_ESCAPED_USER = re.compile(r"&lt;@(\d{1,20})&gt;")
_ESCAPED_ROLE = re.compile(r"&lt;@&amp;(\d{1,20})&gt;")


def _snippet(msg: Message, words: list[str]) -> str:
    """The matched part of a message as HTML: the text escaped, mentions shown by name, and the
    matched words in <mark>; no other markup can come from the content."""
    raw = getattr(msg, "headline", None)  # escaped by the database
    escape = html.escape if raw is None else _escape_stray
    if raw is None:
        raw = _mark_words(msg.content.replace(_MARK_OPEN, "").replace(_MARK_CLOSE, ""), words)
    out, open_ = [], False
    for part in re.split(f"([{_MARK_OPEN}{_MARK_CLOSE}])", raw):
        if part == _MARK_OPEN:
            out.append("" if open_ else "<mark>")
            open_ = True
        elif part == _MARK_CLOSE:
            out.append("</mark>" if open_ else "")
            open_ = False
        else:
            out.append(escape(part))
    if open_:
        out.append("</mark>")
    users = {u.id: u.shown_name for u in msg.mentions.all()}
    roles = {r.id: r.name for r in msg.mention_roles.all()}
    text = "".join(out)
    text = _ESCAPED_ROLE.sub(lambda m: "@" + html.escape(roles.get(int(m.group(1)), "role")), text)
    return _ESCAPED_USER.sub(lambda m: "@" + html.escape(users.get(int(m.group(1)), "unknown")), text)


def _escape_stray(text: str) -> str:
    """Text the database escaped: a stray < > or " (there should be none) is escaped all the same."""
    return text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _mark_words(content: str, words: list[str]) -> str:
    """ts_headline's job where there is no PostgreSQL: a window around the first match, words marked."""
    if not words:
        return content[:_SNIPPET_CHARS]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)), re.I)
    first = pattern.search(content)
    start = max(0, (first.start() if first else 0) - 80)
    window = content[start: start + _SNIPPET_CHARS]
    marked = pattern.sub(lambda m: f"{_MARK_OPEN}{m.group(0)}{_MARK_CLOSE}", window)
    return ("… " if start else "") + marked + (" …" if start + _SNIPPET_CHARS < len(content) else "")


def mentions_of(user, *, before: int | None = None, limit: int = 25, guild_id: int | None = None) -> list[Message]:
    """Newest first: messages of others that mention the user, one of the user's roles, or
    @everyone/@here, in channels whose history the user may read (in one guild, or all of them)."""
    if not 1 <= limit <= MENTIONS_LIMIT_MAX:
        raise ValidationFailed.field("limit", gettext("Between 1 and %(n)s.") % {"n": MENTIONS_LIMIT_MAX})
    if guild_id is not None:
        members = [access_guild(user, guild_id).member]
    else:
        members = [m for gid in guilds_of(user).values_list("id", flat=True) if (m := member_of(user, gid))]
    channel_ids = [cid for member in members for cid in searchable_channel_ids(member)]
    role_ids = [r.id for member in members for r in member.roles.all()]
    mentioned = (Q(id__in=Message.mentions.through.objects.filter(user=user).values("message_id"))
                 | Q(mention_everyone=True)
                 | Q(id__in=Message.mention_roles.through.objects.filter(role_id__in=role_ids).values("message_id")))
    qs = Message.objects.filter(mentioned, visibility=Message.Visibility.VISIBLE,
                                channel_id__in=channel_ids).exclude(author=user)
    if before is not None:
        qs = qs.filter(id__lt=before)
    page = list(_search_related(qs, None).order_by("-id")[:limit])
    for msg in page:
        msg.snippet = _snippet(msg, [])
    return page
