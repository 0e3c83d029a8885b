"""Where chat calls into the apps above it (apps.core.hooks): moderation fills the first two slots
in its AppConfig.ready(), notifications the last. Explicit calls from the chat services, not
signals, so a reader of send_message sees that automod runs before the write and scoring and
notifications follow it."""
from apps.core.hooks import Slot

# (access, content, *, edit=False) → None: before a guild message is saved or edited; raises
# (automod_blocked) if it breaks one of the guild's blocking automod rules.
check_message = Slot("chat.check_message")

# (message) → None: a message was sent or edited; called after its event was published, inside
# the write's transaction, so delivery never waits for what it queues.
message_written = Slot("chat.message_written")

# (message) → None: a message was sent (not edited): notifications decides who hears of it once
# the write commits. Called after its event, inside the write's transaction.
message_sent = Slot("chat.message_sent")
