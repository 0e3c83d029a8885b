"""WebSocket routes of every app, gathered in one list for smartc.asgi."""
from apps.realtime.routing import websocket_urlpatterns as realtime_urlpatterns

websocket_urlpatterns: list = [
    *realtime_urlpatterns,
]
