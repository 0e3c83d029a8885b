"""Events of the bots domain."""
from apps.core.events import publish, user_group

# To the bot's user group: its token was replaced; the bot gateway closes the bot's sockets (4004)
# and forgets its sessions. A control event of the bot gateway, never relayed to a client (a bot has
# no browser tab), so it is not in an EVENTS registry: the browser protocol's docs do not list it.
BOT_TOKEN_RESET = "BOT_TOKEN_RESET"


def to_bot(bot_id: int, event_type: str, data: dict) -> None:
    publish(user_group(bot_id), event_type, data)
