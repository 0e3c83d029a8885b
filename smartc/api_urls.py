"""Every app's API routes under /api/."""
from django.urls import include, path

urlpatterns = [
    # Discord's API v10 for bots written with Discord libraries (apps/bots/discord).
    path("v10/", include("apps.bots.discord.urls")),
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.guilds.api_urls")),
    path("", include("apps.chat.api_urls")),
    path("", include("apps.dms.api_urls")),
    path("", include("apps.tracks.api_urls")),
    path("", include("apps.moderation.api_urls")),
    path("", include("apps.rtc.api_urls")),
    path("", include("apps.notifications.api_urls")),
]
