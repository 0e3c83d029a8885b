import re
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.urls import include, path, re_path
from django.views.static import serve
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.accounts.forms import AdminOTPLoginForm
from apps.chat import views as chat_views
from apps.guilds import views as guild_views

# Staff pass two-factor authentication before the admin lets them in.
admin.site.__class__ = OTPAdminSite
admin.site.site_header = "SmaRTC administration"
admin.site.site_title = "SmaRTC admin"
admin.site.login_template = "admin/otp_login.html"
# One step for an authenticator code: no device to pick, no challenge button (apps/accounts/forms.py).
admin.site.login_form = AdminOTPLoginForm

# A dependency that is down is a 503, also when it fails outside a view (apps/core/unavailable.py).
handler500 = "apps.core.unavailable.server_error"
# Under /api/, Django's own 400 and 404 answers are in the API's error shape too.
handler400 = "apps.core.views.bad_request"
handler404 = "apps.core.views.page_not_found"


def docs_visible(view):
    """The API schema and its docs: for everyone with API_DOCS_PUBLIC, otherwise staff only (404)."""
    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not (settings.API_DOCS_PUBLIC or request.user.is_staff):
            raise Http404
        return view(request, *args, **kwargs)
    return guarded


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("smartc.api_urls")),
    path("attachments/", include("apps.chat.urls")),
    path("embed-media/<str:name>.webp", chat_views.embed_media, name="embed_media"),
    path("", include("apps.tracks.urls")),
    path("api/schema/", docs_visible(SpectacularAPIView.as_view()), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (?script=), so the page
    # needs no inline script under the Content-Security-Policy.
    path("api/docs/", docs_visible(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("", include("django_prometheus.urls")),
    path("", include("apps.guilds.urls")),
    path("", include("apps.moderation.urls")),
    path("", include("apps.dms.urls")),
    path("", include("apps.pwa.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.privacy.urls")),
    path("", include("apps.bots.urls")),
    path("", guild_views.home, name="home"),
]

if settings.SERVE_MEDIA and not settings.AWS_STORAGE_BUCKET_NAME:
    # django.conf.urls.static.static() serves only under DEBUG; make run keeps DEBUG off.
    media_prefix = re.escape(settings.MEDIA_URL.lstrip("/"))
    urlpatterns += [re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})]
