from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "apps.realtime"
    label = "realtime"

    def ready(self):
        from apps.notifications import hooks

        from . import presence

        # Who is online, for @here and Web Push (notifications sits below the gateway).
        hooks.statuses.fill(presence.statuses_now)
