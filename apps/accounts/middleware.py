"""Keeps each signed-in browser's row for the sessions page (models.UserSession): its address,
user agent and when it was last seen, written at most once a minute per session."""
from django.core.cache import cache

from apps.core.clientaddr import client_address

from . import session_services


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # After the view: a sign-in changes the session key, and the new one is the one to keep.
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        if key and user is not None and user.is_authenticated and not getattr(request, "auth", None):
            marker = f"session-seen:{key}"
            if cache.add(marker, 1, timeout=int(session_services.SEEN_EVERY.total_seconds())):
                session_services.touch_session(user, session_key=key, ip=client_address(request),
                                               user_agent=request.META.get("HTTP_USER_AGENT", ""))
        return response
