"""What the Discord surface reads, as Discord's shapes: guilds, channels, members, messages. Every
visibility question goes to the one permission engine (apps.guilds.selectors)."""
from __future__ import annotations

from django.contrib.auth import get_user_model

from apps.chat import payloads as chat_payloads
from apps.chat import selectors as chat_selectors
from apps.guilds.models import Member, PermissionOverwrite
from apps.guilds.selectors import guilds_of, member_of, members_of, roles_of, visible_channels

from ..models import BotInstall
from . import shapes

MEMBERS_IN_GUILD_CREATE = 250  # Discord's large_threshold: past it, members come on request


def managed_role_ids(guild_id: int) -> set[int]:
    return set(BotInstall.objects.filter(guild_id=guild_id).values_list("role_id", flat=True))


def channels_of(member) -> list[dict]:
    visible = [ch for ch, _ in visible_channels(member)]
    overwrites: dict[int, list] = {}
    for o in PermissionOverwrite.objects.filter(channel__in=visible).select_related("role", "member"):
        overwrites.setdefault(o.channel_id, []).append(o)
    return [shapes.channel(ch, overwrites.get(ch.id, ())) for ch in visible]


def guild_object(member, *, full: bool, members_intent: bool = False) -> dict:
    """GET /guilds/{id} (not `full`) or GUILD_CREATE's data (`full`: channels and members)."""
    guild = member.guild
    count = Member.objects.filter(guild=guild).count()
    members: list[dict] = []
    if full:
        listed = members_of(guild)
        if not members_intent:
            listed = listed.filter(pk=member.pk)
        members = [shapes.member(m) for m in listed[:MEMBERS_IN_GUILD_CREATE]]
    return shapes.guild(guild, roles=list(roles_of(guild)), channels=channels_of(member) if full else [],
                        members=members, member_count=count, managed_role_ids=managed_role_ids(guild.id),
                        joined_at=member.joined_at.isoformat())


def guild_create(bot, guild_id: int, *, members_intent: bool) -> tuple[dict | None, set[int]]:
    """GUILD_CREATE's data for the bot and the channel ids it may see there; (None, ∅) if not a member."""
    member = member_of(bot, guild_id)
    if member is None:
        return None, set()
    d = guild_object(member, full=True, members_intent=members_intent)
    return d, {int(c["id"]) for c in d["channels"]}


def visible_ids(bot, guild_id: int) -> set[int] | None:
    member = member_of(bot, guild_id)
    if member is None:
        return None
    return {ch.id for ch, _ in visible_channels(member)}


def guild_ids(bot) -> list[int]:
    return list(guilds_of(bot).values_list("id", flat=True))


def member_partial(guild_id, user_id, *, with_user: bool = False) -> dict | None:
    """The author's guild member as MESSAGE_CREATE carries it (without its user), so that a library
    sees a member, with roles, rather than a bare user; a voice state's member has its user."""
    if guild_id is None or user_id is None:
        return None
    m = Member.objects.filter(guild_id=guild_id, user_id=user_id).select_related("user").prefetch_related(
        "roles").first()
    return shapes.member(m, with_user=with_user) if m is not None else None


def users(ids) -> list[dict]:
    return [shapes.user(u) for u in get_user_model().objects.filter(id__in=list(ids))]


def message(msg, viewer_id: int) -> dict:
    """A Message (model) as Discord's, with its reactions, for a REST answer."""
    d = chat_payloads.message_payload(msg)
    out = shapes.message(d, guild_id=msg.channel.guild_id, mention_users=[shapes.user(u) for u in msg.mentions.all()],
                         reactions=chat_selectors.reaction_summary(msg, viewer_id))
    member = member_partial(msg.channel.guild_id, msg.author_id)
    if member is not None:
        out["member"] = member
    return out
