from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self):
        from apps.core.parsers import text_fields_take_only_strings

        text_fields_take_only_strings()
