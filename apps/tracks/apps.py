from django.apps import AppConfig


class TracksConfig(AppConfig):
    name = "apps.tracks"
    label = "tracks"
