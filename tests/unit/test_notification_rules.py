"""Who hears of a message, as a table: each row is a message, one member's facts and settings,
and why they hear of it (None: they do not). apps/notifications/rules.py is pure, so every rule
is one row here; tests/integration/test_notifications.py checks the facts are gathered right."""
import pytest

from apps.notifications.rules import Message, Recipient, level_for, reason

AUTHOR, ME = 1, 2
PLAIN = Message(author_id=AUTHOR)
EVERYONE = Message(author_id=AUTHOR, everyone=True)
HERE = Message(author_id=AUTHOR, here=True)
DM = Message(author_id=AUTHOR, is_dm=True)
HELD = Message(author_id=AUTHOR, readable=False)


def me(**facts) -> Recipient:
    return Recipient(user_id=ME, **facts)


TABLE = [
    # Defaults: a guild is "only @mentions".
    ("plain message, defaults", PLAIN, me(), None),
    ("mentioned by name", PLAIN, me(mentioned=True), "mention"),
    ("one of my roles mentioned", PLAIN, me(role_mentioned=True), "role"),
    ("a reply to my message", PLAIN, me(replied_to=True), "reply"),
    ("@everyone", EVERYONE, me(), "everyone"),
    ("the name wins over @everyone", EVERYONE, me(mentioned=True), "mention"),
    # @here: only members who are online.
    ("@here while online", HERE, me(online=True), "here"),
    ("@here while offline", HERE, me(online=False), None),
    # Suppress @everyone and @here (per guild).
    ("@everyone suppressed", EVERYONE, me(suppress_everyone=True), None),
    ("@here suppressed", HERE, me(online=True, suppress_everyone=True), None),
    ("suppressed, but named", EVERYONE, me(suppress_everyone=True, mentioned=True), "mention"),
    ("suppressed, at all messages: still a message", EVERYONE, me(suppress_everyone=True, guild_level="all"),
     "message"),
    # Guild levels.
    ("guild at all messages", PLAIN, me(guild_level="all"), "message"),
    ("guild at only mentions", PLAIN, me(guild_level="mentions"), None),
    ("guild at nothing, even named", PLAIN, me(guild_level="nothing", mentioned=True), None),
    ("guild at nothing, @everyone", EVERYONE, me(guild_level="nothing"), None),
    # Channel overrides win over the guild; inherit follows it.
    ("channel all over guild mentions", PLAIN, me(guild_level="mentions", channel_level="all"), "message"),
    ("channel mentions over guild all", PLAIN, me(guild_level="all", channel_level="mentions"), None),
    ("channel nothing over guild all, named", PLAIN, me(guild_level="all", channel_level="nothing", mentioned=True),
     None),
    ("channel inherit follows guild all", PLAIN, me(guild_level="all", channel_level="inherit"), "message"),
    ("channel mentions over guild nothing, named", PLAIN,
     me(guild_level="nothing", channel_level="mentions", mentioned=True), "mention"),
    # Mutes silence all but pings.
    ("channel muted, all messages", PLAIN, me(channel_level="all", channel_muted=True), None),
    ("channel muted, named", PLAIN, me(channel_level="all", channel_muted=True, mentioned=True), "mention"),
    ("guild muted, all messages", PLAIN, me(guild_level="all", guild_muted=True), None),
    ("guild muted, @everyone", EVERYONE, me(guild_muted=True), "everyone"),
    ("guild muted, channel at all", PLAIN, me(guild_muted=True, channel_level="all"), None),
    ("mute over, all messages", PLAIN, me(guild_level="all", guild_muted=False), "message"),
    # Direct messages: every message, unless the DM says otherwise.
    ("a DM", DM, me(), "dm"),
    ("a DM that names me", DM, me(mentioned=True), "mention"),
    ("a DM at only mentions", DM, me(channel_level="mentions"), None),
    ("a DM at nothing", DM, me(channel_level="nothing", mentioned=True), None),
    ("a muted DM", DM, me(channel_muted=True), None),
    ("a DM ignores the guild's settings", DM, me(guild_level="nothing", guild_muted=True), "dm"),
    # Never: blocked authors, unreadable messages, channels I cannot view, my own messages.
    ("author blocked, named", PLAIN, me(blocked_author=True, mentioned=True), None),
    ("author blocked, DM", DM, me(blocked_author=True), None),
    ("held message, named", HELD, me(mentioned=True), None),
    ("held DM", Message(author_id=AUTHOR, is_dm=True, readable=False), me(), None),
    ("channel I cannot view, @everyone", EVERYONE, me(can_view=False), None),
    ("my own message", Message(author_id=ME, everyone=True), me(mentioned=True, guild_level="all"), None),
]


@pytest.mark.parametrize(("case", "msg", "recipient", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_who_hears_of_a_message(case, msg, recipient, expected):
    assert reason(msg, recipient) == expected


@pytest.mark.parametrize(("msg", "recipient", "level"), [
    (PLAIN, me(), "mentions"),
    (DM, me(), "all"),
    (PLAIN, me(guild_level="all", channel_muted=True), "mentions"),
    (DM, me(channel_level="inherit"), "all"),
    (PLAIN, me(guild_level="nothing", guild_muted=True), "nothing"),
])
def test_level_in_force(msg, recipient, level):
    assert level_for(msg, recipient) == level
