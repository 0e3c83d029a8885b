"""The service worker's script, at the site's root so that its scope is every page. It only loads
the Web Push handlers (static/js/sw-push.js); the installable app's worker imports the same file.
And the activity page: the bell's list in full, with its settings."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from . import activity, payloads
from .models import ActivityKind


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    source = f'// SmaRTC\'s service worker.\nimportScripts("{static("js/sw-push.js")}");\n'
    return HttpResponse(source, content_type="text/javascript; charset=utf-8")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def activity_page(request):
    """Everything the bell shows, and which kinds of activity the member hears of (a POST of the form)."""
    saved = False
    if request.method == "POST":
        activity.update_settings(user=request.user, **{k: k in request.POST for k in ActivityKind.values})
        saved = True
    found = activity.recent(request.user, limit=100)
    activity.mark_read(user=request.user)
    row = activity.settings_for(request.user)
    return render(request, "notifications/activity.html", {
        "items": [payloads.activity(a) for a in found], "saved": saved,
        "kinds": [(value, label, getattr(row, value)) for value, label in ActivityKind.choices]})
