"""Refuses, before any view, a request whose path, query string or page form holds text the
database cannot store (apps.core.untrusted): one check for every route that reads `?q=`, a slug
or a form field. API bodies are the API parsers' to check (apps.core.parsers): an upload's body is
read only once its view has set the size cap."""
from django.core.exceptions import BadRequest

from apps.core import untrusted
from apps.core.views import api_error


class UnstorableTextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        api = request.path.startswith("/api/")
        where = self._unstorable(request, with_body=not api)
        if where is None:
            return self.get_response(request)
        if api:
            refusal = untrusted.unstorable_text(where)
            return api_error(refusal.status, refusal.code, refusal.message, refusal.fields)
        raise BadRequest(untrusted.unstorable_text_message())

    @staticmethod
    def _unstorable(request, *, with_body: bool) -> str | None:
        if not untrusted.is_storable(request.path):
            return "path"
        where = untrusted.first_unstorable_field(request.GET)
        if where is None and with_body and request.method == "POST":
            where = (untrusted.first_unstorable_field(request.POST)
                     or untrusted.first_unstorable_file_name(request.FILES))
        return where
