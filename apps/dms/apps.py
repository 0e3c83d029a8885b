from django.apps import AppConfig


class DmsConfig(AppConfig):
    name = "apps.dms"
    label = "dms"
