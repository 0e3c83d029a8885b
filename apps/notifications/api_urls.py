from django.urls import path

from . import activity_api, api

urlpatterns = [
    path("users/@me/notification-settings", api.MySettingsView.as_view()),
    path("users/@me/guilds/<id:guild_id>/notification-settings", api.GuildSettingsView.as_view()),
    path("users/@me/channels/<id:channel_id>/notification-settings", api.ChannelSettingsView.as_view()),
    path("users/@me/activity", activity_api.ActivityView.as_view()),
    path("users/@me/activity/read", activity_api.ActivityReadView.as_view()),
    path("users/@me/activity-settings", activity_api.ActivitySettingsView.as_view()),
    path("push/vapid-key", api.VapidKeyView.as_view()),
    path("push/subscriptions", api.SubscriptionsView.as_view()),
]
