"""The service worker's script, at the site's root so that its scope is every page. It only loads
the Web Push handlers (static/js/sw-push.js); the installable app's worker imports the same file."""
from django.http import HttpResponse
from django.templatetags.static import static
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    source = f'// SmaRTC\'s service worker.\nimportScripts("{static("js/sw-push.js")}");\n'
    return HttpResponse(source, content_type="text/javascript; charset=utf-8")
