"""Django's own error answers (a URL that matches no route, a request Django refuses before any
view) in the API's one error shape under /api/ (Discord's under /api/v10/), and as pages elsewhere."""
from django.http import JsonResponse
from django.utils.translation import gettext
from django.views import defaults


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, fields: dict | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "fields": fields or {}}}, status=status)


def bad_request(request, exception=None):
    if _is_api(request):
        return api_error(400, "bad_request", gettext("The request is malformed."))
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    if request.path.startswith("/api/v10/"):
        # Discord's answer to a route it does not know (an id wider than the id columns, say).
        return JsonResponse({"code": 0, "message": "404: Not Found"}, status=404)
    if _is_api(request):
        return api_error(404, "not_found", gettext("Not found."))
    return defaults.page_not_found(request, exception)
