"""Where notifications meets the apps around it (apps.core.hooks).

It fills chat's `message_sent` slot: once a message commits, a task on the `default` queue decides
who hears of it (tasks.notify_message). Deciding takes reads per recipient (an @everyone reads the
whole guild), so the send never waits for it; a message that can ping nobody queues nothing.

It declares `statuses`, which the gateway (apps.realtime, above it) fills: the presence of users
now, read from wherever the gateway keeps it (Redis, or the serving process under `make run`).
@here pings those who are online, and Web Push goes to those with no tab in use."""
from __future__ import annotations

from apps.core import unavailable
from apps.core.hooks import Slot

# (user ids) → {user id: "online" | "idle" | "dnd" | "offline"}. Empty (no gateway installed):
# everyone is offline.
statuses = Slot("notifications.statuses", empty={})


def message_sent(message) -> None:
    """A message was sent: decide who hears of it once it commits (chat.hooks.message_sent). Even
    whether anyone could (`may_notify`, four reads) waits for the commit: the message's event is
    published then, before this runs (on_commit callbacks run in order), so delivery to the open
    sockets never waits for these reads."""
    from . import selectors, tasks

    def queue() -> None:
        if selectors.may_notify(message):
            tasks.notify_message.delay(message.id)

    unavailable.after_commit(queue, what="queueing the message's notifications")


def connect() -> None:
    """Fill the slots of the apps below (NotificationsConfig.ready)."""
    from apps.chat import hooks as chat
    from apps.tracks import hooks as tracks

    from . import activity

    chat.message_sent.fill(message_sent)
    tracks.activity.fill(activity.happened)
