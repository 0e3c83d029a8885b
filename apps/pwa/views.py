"""The installable app: its manifest, its favicon, its service worker and its offline page. All at
the site's root, so that the worker's scope is every page."""
import json

from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .shell import shell

THEME_COLOR = "#1e1f22"
BACKGROUND_COLOR = "#313338"


@require_GET
@cache_control(max_age=3600)  # in the language of its reader: not for shared caches
def manifest(request):
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": static("icons/maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        {"src": static("icons/smartc.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
    ]
    body = {
        "id": "/", "name": "SmaRTC", "short_name": "SmaRTC",
        "description": _("Guild chat, audio tracks and voice rooms."),
        "lang": request.LANGUAGE_CODE, "start_url": "/", "scope": "/", "display": "standalone",
        "theme_color": THEME_COLOR, "background_color": BACKGROUND_COLOR, "icons": icons,
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")


@require_GET
@cache_control(max_age=86400, public=True)
def favicon(request):
    path = finders.find("icons/favicon.ico")
    if not path:
        raise Http404
    return FileResponse(open(path, "rb"), content_type="image/x-icon")


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """The worker: the shell's version and URLs, then the Web Push handlers (sw-push.js) and the
    caching rules (sw-shell.js), both classic scripts it imports."""
    version, urls = shell()
    config = {"version": version, "shell": urls, "offline": reverse("pwa:offline")}
    source = (
        "// SmaRTC's service worker.\n"
        f"self.SMARTC_SHELL = {json.dumps(config)};\n"
        f'importScripts("{static("js/sw-push.js")}", "{static("js/sw-shell.js")}");\n'
    )
    response = HttpResponse(source, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(no_cache=True)
def offline(request):
    """What a navigation shows when the network is down: no user data, so it is safe to cache."""
    return render(request, "pwa/offline.html")
