"""How the API authenticates a token, in one place (REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES).

`Authorization: Token <secret>` (or `Bearer <secret>`) names one of the user's API tokens. An
unknown, expired or revoked one is refused with 401; a token without the scope a request needs is
refused with 403 `missing_scope`: reads (GET, HEAD, OPTIONS) need `read`, every other method
`write`; the gateway needs `gateway` (apps/realtime/auth.py). Browser sessions are not scoped."""
from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from apps.core.errors import NotAuthenticated

from . import token_services

KEYWORDS = (b"token", b"bearer")


def secret_from_header(value: bytes | str) -> str | None:
    """The secret of an Authorization header value, None when it names no token scheme."""
    if isinstance(value, str):
        value = value.encode("latin-1", "replace")
    parts = value.split()
    if not parts or parts[0].lower() not in KEYWORDS:
        return None
    if len(parts) != 2 or len(parts[1]) > 200:
        return ""
    return parts[1].decode("latin-1")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        secret = secret_from_header(authentication.get_authorization_header(request))
        if secret is None:
            return None
        try:
            user, token = token_services.authenticate_token(secret)
        except NotAuthenticated as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        token_services.require_scope(token, "read" if request.method in SAFE_METHODS else "write")
        return user, token

    def authenticate_header(self, request):
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <secret>` of an API token (create one on the tokens page or with "
                "POST /api/users/@me/tokens). Scopes: `read` for GET, `write` for other methods, `gateway` "
                "for the WebSocket gateway. Expired or revoked: 401; missing scope: 403 `missing_scope`."}
