"""Keeps each signed-in browser's row for the sessions page (models.UserSession): its address,
user agent and when it was last seen, written at most once a minute per session."""
from django.core.cache import cache

from apps.core import unavailable
from apps.core.clientaddr import client_address

from . import session_services


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Before the view, so that the sessions page lists the browser asking for it. A sign-in
        # gives the session a new key that is known only once the response saves it: the row comes
        # with the next request, the page the sign-in redirects to.
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        key = session.session_key if session is not None else None
        if key and user is not None and user.is_authenticated:
            try:
                if cache.add(f"session-seen:{key}", 1, timeout=int(session_services.SEEN_EVERY.total_seconds())):
                    session_services.touch_session(user, session_key=key, ip=client_address(request),
                                                   user_agent=request.META.get("HTTP_USER_AGENT", ""))
            except Exception as exc:
                # The page does not need it: a list entry that waits for the next request beats a 503.
                if (name := unavailable.dependency(exc)) is None:
                    raise
                unavailable.bypassed(exc, name, "the sessions list")
        return self.get_response(request)
