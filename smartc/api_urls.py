"""Every app's API routes under /api/."""
from django.urls import include, path

urlpatterns = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.guilds.api_urls")),
    path("", include("apps.chat.api_urls")),
    path("", include("apps.dms.api_urls")),
    path("", include("apps.tracks.api_urls")),
    path("", include("apps.moderation.api_urls")),
    path("", include("apps.rtc.api_urls")),
    path("", include("apps.notifications.api_urls")),
]
