"""The gateway's WebSocket routes (path → ASGI application), for smartc.routing."""
from .consumers import GatewayConsumer

websocket_routes = {
    "/ws/gateway/": GatewayConsumer.as_asgi(),
}
