"""The permission engine as a table of cases and as properties (hypothesis)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.guilds.permissions import (
    ALL,
    NONE,
    TIMEOUT_KEEPS,
    ChannelOverwrites,
    MemberContext,
    Overwrite,
    Permission,
    can_act_on,
    compute_permissions,
    from_names,
    names,
)

P = Permission
V, S, R = P.VIEW_CHANNEL, P.SEND_MESSAGES, P.READ_MESSAGE_HISTORY
EVERYONE = V | S | R | P.ADD_REACTIONS | P.CONNECT | P.SPEAK


def member(everyone=EVERYONE, roles=(), owner=False, timed_out=False):
    return MemberContext(is_owner=owner, everyone=int(everyone), roles=tuple(int(r) for r in roles),
                         timed_out=timed_out)


def ow(allow=0, deny=0):
    return Overwrite(int(allow), int(deny))


# (description, member, channel overwrites or None, permission, expected)
CASES = [
    ("@everyone base applies", member(), None, S, True),
    ("no role grants kick", member(), None, P.KICK_MEMBERS, False),
    ("a role adds to the base", member(roles=[P.KICK_MEMBERS]), None, P.KICK_MEMBERS, True),
    ("roles are ORed", member(roles=[P.KICK_MEMBERS, P.BAN_MEMBERS]), None, P.BAN_MEMBERS, True),
    ("owner has everything", member(everyone=0, owner=True), None, P.BAN_MEMBERS, True),
    ("ADMINISTRATOR has everything", member(everyone=0, roles=[P.ADMINISTRATOR]), None, P.MANAGE_GUILD, True),
    ("admin ignores channel denies", member(roles=[P.ADMINISTRATOR]), ChannelOverwrites(everyone=ow(deny=V)), V, True),
    ("owner ignores channel denies", member(owner=True), ChannelOverwrites(everyone=ow(deny=V | S)), S, True),
    ("@everyone overwrite denies", member(), ChannelOverwrites(everyone=ow(deny=S)), S, False),
    ("@everyone overwrite allows", member(everyone=V), ChannelOverwrites(everyone=ow(allow=S)), S, True),
    ("role allow beats @everyone deny", member(), ChannelOverwrites(everyone=ow(deny=S), roles=(ow(allow=S),)), S,
     True),
    ("role allow beats another role's deny (pooled)", member(),
     ChannelOverwrites(roles=(ow(deny=S), ow(allow=S))), S, True),
    ("member deny beats role allow", member(), ChannelOverwrites(roles=(ow(allow=S),), member=ow(deny=S)), S, False),
    ("member allow beats @everyone and role denies", member(),
     ChannelOverwrites(everyone=ow(deny=S), roles=(ow(deny=S),), member=ow(allow=S)), S, True),
    ("no VIEW_CHANNEL means nothing in the channel", member(roles=[P.MANAGE_MESSAGES]),
     ChannelOverwrites(everyone=ow(deny=V)), P.MANAGE_MESSAGES, False),
    ("private channel opened to a role", member(roles=[0]),
     ChannelOverwrites(everyone=ow(deny=V), roles=(ow(allow=V),)), V, True),
    ("voice without CONNECT cannot speak", member(),
     ChannelOverwrites(everyone=ow(deny=P.CONNECT), is_voice=True), P.SPEAK, False),
    ("text channel ignores CONNECT rule", member(), ChannelOverwrites(everyone=ow(deny=P.CONNECT)), S, True),
    ("timeout strips sending", member(timed_out=True), None, S, False),
    ("timeout keeps reading", member(timed_out=True), None, R, True),
    ("timeout strips role grants", member(roles=[P.KICK_MEMBERS], timed_out=True), None, P.KICK_MEMBERS, False),
    ("timeout cannot override a hidden channel", member(timed_out=True), ChannelOverwrites(everyone=ow(deny=V)), V,
     False),
    ("timed-out owner keeps everything", member(owner=True, timed_out=True), None, S, True),
    ("audio upload bit from a role", member(roles=[P.UPLOAD_TRACKS]), None, P.UPLOAD_TRACKS, True),
    ("channel deny of a high audio bit", member(roles=[P.COMMENT_ON_TRACKS]),
     ChannelOverwrites(everyone=ow(deny=P.COMMENT_ON_TRACKS)), P.COMMENT_ON_TRACKS, False),
]


@pytest.mark.parametrize(("desc", "ctx", "channel", "perm", "expected"), CASES, ids=[c[0] for c in CASES])
def test_permission_table(desc, ctx, channel, perm, expected):
    assert bool(compute_permissions(ctx, channel) & perm) is expected


def test_names_round_trip():
    perms = P.KICK_MEMBERS | P.UPLOAD_TRACKS
    assert from_names(names(perms)) == perms
    with pytest.raises(ValueError, match="Unknown permission"):
        from_names(["FLY"])


def test_bits_fit_a_signed_64_bit_column():
    assert int(ALL) < 2**63


def test_role_hierarchy():
    assert can_act_on(5, 3, actor_is_owner=False)
    assert not can_act_on(3, 3, actor_is_owner=False)
    assert not can_act_on(2, 3, actor_is_owner=False)
    assert can_act_on(0, 99, actor_is_owner=True)


# --- properties ---

bits = st.integers(min_value=0, max_value=int(ALL)).map(lambda v: v & int(ALL))
overwrites = st.builds(Overwrite, bits, bits)
maybe_ow = st.none() | overwrites
contexts = st.builds(MemberContext, is_owner=st.booleans(), everyone=bits,
                     roles=st.lists(bits, max_size=4).map(tuple), timed_out=st.booleans())
channels = st.none() | st.builds(ChannelOverwrites, everyone=maybe_ow,
                                 roles=st.lists(overwrites, max_size=4).map(tuple), member=maybe_ow,
                                 is_voice=st.booleans())


@given(contexts, channels)
def test_result_is_a_known_bitfield(ctx, channel):
    perms = compute_permissions(ctx, channel)
    assert int(perms) & ~int(ALL) == 0


@given(contexts, channels)
def test_owner_always_has_everything(ctx, channel):
    owner = MemberContext(is_owner=True, everyone=ctx.everyone, roles=ctx.roles, timed_out=ctx.timed_out)
    assert compute_permissions(owner, channel) == ALL


@given(contexts, channels)
def test_administrator_always_has_everything(ctx, channel):
    admin = MemberContext(is_owner=False, everyone=ctx.everyone, roles=(*ctx.roles, int(P.ADMINISTRATOR)),
                          timed_out=ctx.timed_out)
    assert compute_permissions(admin, channel) == ALL


@given(contexts, channels)
def test_timeout_keeps_at_most_reading(ctx, channel):
    timed = MemberContext(is_owner=False, everyone=ctx.everyone, roles=ctx.roles, timed_out=True)
    perms = compute_permissions(timed, channel)
    base = ctx.everyone
    for r in ctx.roles:
        base |= r
    if not base & P.ADMINISTRATOR:
        assert int(perms) & ~int(TIMEOUT_KEEPS) == 0


@given(contexts, channels)
def test_no_view_means_nothing(ctx, channel):
    perms = compute_permissions(ctx, channel)
    if channel is not None and not perms & P.VIEW_CHANNEL:
        assert perms == NONE


@given(contexts, channels, st.sampled_from(list(Permission)))
def test_member_overwrite_has_the_last_word(ctx, channel, perm):
    """Whatever roles say, a member-level allow grants and a deny removes (short of owner/admin)."""
    if channel is None or ctx.is_owner:
        return
    base = ctx.everyone
    for r in ctx.roles:
        base |= r
    if base & P.ADMINISTRATOR or ctx.timed_out:
        return
    allow_all = ChannelOverwrites(channel.everyone, channel.roles, Overwrite(int(perm | P.VIEW_CHANNEL), 0),
                                  is_voice=False)
    assert compute_permissions(ctx, allow_all) & perm
    if perm != P.VIEW_CHANNEL:
        deny = ChannelOverwrites(channel.everyone, channel.roles, Overwrite(int(P.VIEW_CHANNEL), int(perm)),
                                 is_voice=False)
        assert not compute_permissions(ctx, deny) & perm


@given(contexts, channels, bits)
def test_adding_a_role_never_removes_guild_permissions(ctx, channel, extra):
    """Guild-level permissions are monotonic in roles (channel overwrites can still deny)."""
    more = MemberContext(is_owner=ctx.is_owner, everyone=ctx.everyone, roles=(*ctx.roles, extra),
                         timed_out=ctx.timed_out)
    before, after = compute_permissions(ctx), compute_permissions(more)
    assert int(before) & ~int(after) == 0
