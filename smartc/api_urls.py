"""Every app's API routes under /api/."""
from django.urls import include, path

from apps.chat.webhook_api import WebhookExecuteView

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

# Discord's URL for the same execute-webhook view, for Discord clients and libraries.
urlpatterns += [path("v10/webhooks/<int:webhook_id>/<str:token>", WebhookExecuteView.as_view())]
