"""Django's ASGI handler, with one change: a request whose error handling failed as well still gets
an answer (a bare 500), so the request finishes.

Django closes a request's database connection when the request finishes (request_finished, sent
when the response is closed). If building the 500 answer raises too (the debug page cannot encode a
lone surrogate it shows, a broken 500 template), no response exists: the exception escapes to the
server, the request never finishes, and the connection stays checked out of the pool. Each such
request took one more, until every request waited out the pool's timeout."""
import logging

from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.http import HttpResponseServerError
from django.utils.translation import gettext

from apps.core.views import api_error

log = logging.getLogger("django.request")


class ASGIHandler(DjangoASGIHandler):
    async def run_get_response(self, request):
        try:
            return await super().run_get_response(request)
        except Exception:
            log.exception("Internal Server Error: %s (its error page failed too)", request.path)
            # No template: whatever broke the error page may break it again.
            if request.path.startswith("/api/"):
                return api_error(500, "internal_error", gettext("Something went wrong."))
            return HttpResponseServerError("<h1>Server Error (500)</h1>")
