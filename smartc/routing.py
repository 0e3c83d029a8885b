"""WebSocket routes of every app (path → ASGI application), gathered in one table for smartc.asgi."""
from apps.realtime.routing import websocket_routes as realtime_routes

websocket_routes: dict = {
    **realtime_routes,
}
