"""The permission engine in a thread: the parent's overwrites apply, and SEND_MESSAGES there is
SEND_MESSAGES_IN_THREADS."""
import pytest

from apps.guilds.permissions import ALL, TIMEOUT_KEEPS, ChannelOverwrites, MemberContext, Overwrite, Permission
from apps.guilds.permissions import compute_permissions as compute

P = Permission
BASE = P.VIEW_CHANNEL | P.READ_MESSAGE_HISTORY


def member(everyone, *, timed_out=False, owner=False, roles=()):
    return MemberContext(is_owner=owner, everyone=int(everyone), roles=tuple(int(r) for r in roles),
                         timed_out=timed_out)


def thread(everyone_ow=None):
    return ChannelOverwrites(everyone=everyone_ow, is_thread=True)


@pytest.mark.parametrize(("everyone", "overwrite", "can_send"), [
    (BASE | P.SEND_MESSAGES | P.SEND_MESSAGES_IN_THREADS, None, True),
    (BASE | P.SEND_MESSAGES_IN_THREADS, None, True),  # SEND_MESSAGES in the parent is not needed
    (BASE | P.SEND_MESSAGES, None, False),  # and not enough
    (BASE | P.SEND_MESSAGES, Overwrite(allow=int(P.SEND_MESSAGES_IN_THREADS)), True),
    (BASE | P.SEND_MESSAGES_IN_THREADS, Overwrite(deny=int(P.SEND_MESSAGES_IN_THREADS)), False),
])
def test_sending_in_a_thread_follows_send_messages_in_threads(everyone, overwrite, can_send):
    perms = compute(member(everyone), thread(overwrite))
    assert bool(perms & P.SEND_MESSAGES) is can_send
    # Outside a thread, nothing changes.
    plain = compute(member(everyone), ChannelOverwrites(everyone=overwrite))
    assert bool(plain & P.SEND_MESSAGES) is bool(everyone & P.SEND_MESSAGES and not (
        overwrite and overwrite.deny & P.SEND_MESSAGES))


def test_no_view_on_the_parent_means_nothing_in_the_thread():
    everyone = BASE | P.SEND_MESSAGES_IN_THREADS | P.CREATE_THREADS
    assert compute(member(everyone), thread(Overwrite(deny=int(P.VIEW_CHANNEL)))) == 0


def test_timeout_strips_everything_but_reading_in_threads_too():
    everyone = BASE | P.SEND_MESSAGES_IN_THREADS | P.CREATE_THREADS
    perms = compute(member(everyone, timed_out=True, roles=[P.MANAGE_THREADS]), thread())
    assert perms == TIMEOUT_KEEPS


def test_owner_and_administrator_keep_everything():
    assert compute(member(0, owner=True), thread()) == ALL
    assert compute(member(0, roles=[P.ADMINISTRATOR]), thread()) == ALL
