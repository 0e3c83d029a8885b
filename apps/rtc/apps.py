from django.apps import AppConfig


class RtcConfig(AppConfig):
    name = "apps.rtc"
    label = "rtc"
