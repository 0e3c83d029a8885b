"""WebSocket routes of every app (path → ASGI application), gathered in one table for smartc.asgi."""
from apps.bots.routing import any_origin as bot_routes
from apps.bots.routing import websocket_routes as bot_websocket_routes
from apps.realtime.routing import websocket_routes as realtime_routes

websocket_routes: dict = {
    **realtime_routes,
    **bot_websocket_routes,
}
# Routes authenticated by a token inside the protocol, never by a cookie: no Origin check.
any_origin_routes: frozenset = bot_routes
