from django.urls import path

from . import api, thread_api, webhook_api

urlpatterns = [
    path("channels/<id:channel_id>/messages", api.MessagesView.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>", api.MessageDetailView.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>/reactions/<str:emoji>/@me", api.ReactionView.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>/suppress-embeds", api.SuppressEmbedsView.as_view()),
    path("channels/<id:channel_id>/pins", api.PinsView.as_view()),
    path("channels/<id:channel_id>/pins/<id:message_id>", api.PinView.as_view()),
    path("channels/<id:channel_id>/typing", api.TypingView.as_view()),
    path("channels/<id:channel_id>/ack", api.AckView.as_view()),
    path("channels/<id:channel_id>/attachments", api.AttachmentUploadView.as_view()),
    path("channels/<id:channel_id>/messages/<id:message_id>/threads", thread_api.ThreadCreateView.as_view()),
    path("channels/<id:channel_id>/threads", thread_api.ChannelThreadsView.as_view()),
    path("threads/<id:thread_id>", thread_api.ThreadDetailView.as_view()),
    path("threads/<id:thread_id>/members", thread_api.ThreadMembersView.as_view()),
    path("threads/<id:thread_id>/members/@me", thread_api.ThreadMeView.as_view()),
]

urlpatterns += [
    path("guilds/<id:guild_id>/messages/search", api.GuildSearchView.as_view()),
    path("users/@me/mentions", api.MentionsView.as_view()),
]

urlpatterns += [
    path("channels/<id:channel_id>/webhooks", webhook_api.ChannelWebhooksView.as_view()),
    path("webhooks/<id:webhook_id>", webhook_api.WebhookView.as_view()),
    path("webhooks/<id:webhook_id>/token", webhook_api.WebhookTokenView.as_view()),
    path("webhooks/<id:webhook_id>/<str:token>", webhook_api.WebhookExecuteView.as_view()),
]
