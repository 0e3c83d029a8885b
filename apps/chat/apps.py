from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "apps.chat"
    label = "chat"

    def ready(self):
        from apps.guilds import hooks

        from . import services

        hooks.purge_member_messages.fill(services.purge_member_messages)
