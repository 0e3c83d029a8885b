from django.apps import AppConfig


class GuildsConfig(AppConfig):
    name = "apps.guilds"
    label = "guilds"

    def ready(self):
        from . import layout

        layout.connect()
