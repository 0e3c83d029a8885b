"""WebSocket routes of every app, gathered in one list for smartc.asgi."""

websocket_urlpatterns: list = []
