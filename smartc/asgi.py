"""HTTP goes to Django; WebSockets go through the origin check to the app routes, where the gateway
authenticates its session itself (apps.realtime.auth).

The WebSocket side is plain calls that hand back the route's coroutine instead of Channels'
ProtocolTypeRouter, OriginValidator and URLRouter: each of those awaits the next layer, so each kept
a suspended coroutine (and URLRouter a copy of the scope) for the whole life of every socket, a few
KB per socket on a node holding tens of thousands. The checks are Channels' own."""
import os
from urllib.parse import urlparse

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")
django.setup(set_prefix=False)

from smartc import celery_app  # noqa: E402

# Load the task modules and build Celery's registry now, not on the first message sent: that send
# would hold the GIL for a few hundred ms of imports while the event loop relays its frames.
celery_app.loader.import_default_modules()
celery_app.finalize()

from apps.core.asgi import ASGIHandler  # noqa: E402

django_asgi_app = ASGIHandler()  # Django's, except that a failed error page still ends the request

from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from apps.core.bodylimit import refuse_oversized_bodies  # noqa: E402
from apps.realtime.reads import header  # noqa: E402
from smartc.routing import any_origin_routes, websocket_routes  # noqa: E402

# A body over its endpoint's limit is answered 413 before Django reads it.
http_application = refuse_oversized_bodies(django_asgi_app)


async def refuse(scope, receive, send):
    """Refuse the handshake (the server answers 403), holding nothing."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.close"})


def websocket_application(scope, receive, send):
    """The route's application for the socket, or a refusal for an unknown path or a foreign origin."""
    path = scope.get("path")
    route = websocket_routes.get(path)
    origin = header(scope, b"origin")
    # Channels' check of the Origin against ALLOWED_HOSTS (the validator is only used for it); routes
    # that never read a cookie (bots send a token) take any origin.
    if route is None or (path not in any_origin_routes and not AllowedHostsOriginValidator(None).valid_origin(
            urlparse(origin) if origin else None)):
        return refuse(scope, receive, send)
    return route(scope, receive, send)


async def application(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        return await http_application(scope, receive, send)
    if kind == "websocket":
        return await websocket_application(scope, receive, send)
    raise ValueError(f"No application configured for scope type {kind!r}")
