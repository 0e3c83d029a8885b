"""Shapes of the tracks API, for validation of what comes in and for the OpenAPI schema."""
from rest_framework import serializers


class TrackUpload(serializers.Serializer):
    file = serializers.FileField(help_text="The audio: mp3, ogg/opus, flac, wav or m4a/aac, decided by decoding it.")
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    genre = serializers.CharField(max_length=40, required=False, allow_blank=True)
    tags = serializers.CharField(required=False, allow_blank=True, help_text="Comma-separated, at most 10.")
    cover = serializers.ImageField(required=False, help_text="PNG, JPEG, GIF or WebP; WebP thumbnails are made.")


class Owner(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class TrackStatus(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["uploaded", "processing", "ready", "failed"])
    step = serializers.CharField(help_text="The pipeline step running or next: probe, waveform, renditions, artwork.")
    failure_reason = serializers.CharField()


class TrackOut(TrackStatus):
    guild_id = serializers.IntegerField()
    owner = Owner()
    title = serializers.CharField()
    description = serializers.CharField()
    genre = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    duration_ms = serializers.IntegerField(allow_null=True)
    sample_rate = serializers.IntegerField(allow_null=True)
    channels = serializers.IntegerField(allow_null=True)
    bitrate = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    page_url = serializers.CharField()
    stream_url = serializers.CharField(allow_null=True, help_text="Progressive AAC; answers HTTP Range.")
    hls_url = serializers.CharField(allow_null=True, help_text="HLS master playlist (64/128/256 kbps AAC).")
    peaks_url = serializers.CharField(allow_null=True, help_text="Waveform peaks, BBC audiowaveform JSON v2.")
    cover_urls = serializers.DictField(child=serializers.CharField(), help_text="Thumbnail size (px) → WebP URL.")
