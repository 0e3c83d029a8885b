"""The two-factor requirement in the permission engine: without a second factor a member has exactly
what they would have had, minus MFA_GATED, whoever they are and wherever they are."""
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from apps.guilds.permissions import (
    ALL,
    MFA_GATED,
    ChannelOverwrites,
    MemberContext,
    Overwrite,
    Permission,
    compute_permissions,
)

bits = st.integers(min_value=0, max_value=int(ALL))
overwrites = st.none() | st.builds(Overwrite, allow=bits, deny=bits)
contexts = st.builds(MemberContext, is_owner=st.booleans(), everyone=bits, roles=st.lists(bits, max_size=3).map(tuple),
                     timed_out=st.booleans())
channels = st.none() | st.builds(ChannelOverwrites, everyone=overwrites, roles=st.lists(
    st.builds(Overwrite, allow=bits, deny=bits), max_size=2).map(tuple), member=overwrites,
    is_voice=st.booleans(), is_thread=st.booleans())


@given(contexts, channels)
def test_without_a_second_factor_only_the_gated_permissions_go(ctx, channel):
    full = compute_permissions(ctx, channel)
    assert compute_permissions(replace(ctx, mfa_missing=True), channel) == full & ~MFA_GATED


def test_the_gated_permissions_are_the_moderators_ones():
    assert {p.name for p in Permission if p & MFA_GATED} == {
        "KICK_MEMBERS", "BAN_MEMBERS", "MODERATE_MEMBERS", "MANAGE_MESSAGES", "MANAGE_ROLES", "MANAGE_CHANNELS"}
    assert not MFA_GATED & (Permission.VIEW_CHANNEL | Permission.SEND_MESSAGES | Permission.MANAGE_GUILD)
