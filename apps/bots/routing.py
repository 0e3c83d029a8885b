"""The bot gateway's WebSocket route, for smartc.routing. Bots send their token in IDENTIFY, not a
cookie, so the route takes sockets from any origin (or none, as bot libraries send)."""
from .discord.gateway import Connection
from .discord.views import GATEWAY_PATH

websocket_routes = {GATEWAY_PATH: Connection.as_asgi()}
any_origin = frozenset(websocket_routes)
