"""The events the gateway itself sends: READY and GUILD_MEMBERS_CHUNK answer a connection (they are
never published), PRESENCE_UPDATE is published by presence.py to the member-list groups. Their
data is built in payloads.py and documented by serializers.py's EVENT_SHAPES; every other event
comes from the apps' services (their own events.py)."""
READY = "READY"
GUILD_MEMBERS_CHUNK = "GUILD_MEMBERS_CHUNK"
PRESENCE_UPDATE = "PRESENCE_UPDATE"

# The events this app sends (the registry docs/gateway.md and /api/schema/ are checked against).
EVENTS = (READY, GUILD_MEMBERS_CHUNK, PRESENCE_UPDATE)
