"""What audio the media pipeline takes, and how much of it a member may upload in a day.

The work a track costs grows with its decoded audio, not with its file: 40 KB of WAV at 8 Hz is 2,500 s of audio,
and a few megabytes of FLAC silence decode to gigabytes. So the audio is bounded, twice:

- at upload, on what the file says of itself (`audio.sniff`: the first frames' sample rate and channels, the length
  its header states): `check_upload`, then `charge_upload` inside the upload's transaction;
- in the worker's probe, on what decoding finds (`probe`): the decode stops as soon as the audio passes what the
  file may hold, so a header that understates its length buys no more work than an honest one.

A member's day (UTC) counts the length each upload states (FFmpeg's estimate where it states none); the probe
corrects it to the decoded length. The count outlives the tracks: deleting one gives nothing back."""
from __future__ import annotations

import datetime
import os

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from apps.core.errors import RateLimited

from . import audio
from .models import Track, UploadDay

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 384_000
MAX_CHANNELS = 8  # 7.1: the renditions' downmix to stereo and the waveform take no more
# Bits per second of audio, on average. Every lossy codec spends more even on silence (MP3 at least 8 kb/s, Opus
# and AAC about 3 kb/s); only a file of (almost) nothing but digital silence, or a header that lies, spends less.
MIN_BITRATE = 2_000
# The audio decoded to 16-bit PCM is at most this many times the size of the file. Opus and AAC encoding silence
# reach about 500; FLAC of silence, or a header claiming hours, far more.
MAX_EXPANSION = 1_024


def _check_shape(found: audio.Sniffed) -> None:
    if not 1 <= found.channels <= MAX_CHANNELS:
        raise audio.NotAudio(gettext("This audio has %(n)s channels; tracks have at most %(max)s (7.1).")
                             % {"n": found.channels, "max": MAX_CHANNELS}, code="too_many_channels")
    if not MIN_SAMPLE_RATE <= found.sample_rate <= MAX_SAMPLE_RATE:
        raise audio.NotAudio(gettext("This audio is sampled at %(rate)s Hz; tracks are sampled at 8,000 to "
                                     "384,000 Hz.") % {"rate": found.sample_rate}, code="unsupported_sample_rate")


def _bounds(found: audio.Sniffed, size: int) -> list[tuple[float, str]]:
    """(longest length, code of the refusal past it) for a file of `size` bytes, tightest first."""
    decoded_per_second = found.sample_rate * found.channels * 2
    return sorted([
        (size * 8 / MIN_BITRATE, "out_of_proportion"),
        (size * MAX_EXPANSION / decoded_per_second, "out_of_proportion"),
        (float(min(settings.TRACK_MAX_SECONDS, settings.TRACK_DAILY_SECONDS)), "too_long"),
    ])


def _refusal(code: str, *, size: int) -> audio.NotAudio:
    if code == "too_long":
        longest = min(settings.TRACK_MAX_SECONDS, settings.TRACK_DAILY_SECONDS)
        return audio.NotAudio(gettext("The audio is longer than %(length)s.") % {"length": audio.clock(longest)},
                              code="too_long")
    if code == "daily_limit":
        return audio.NotAudio(_daily_message(), code="daily_limit")
    return audio.NotAudio(gettext("This file holds far more audio than its size of %(kb)s KB allows: it is "
                                  "damaged, or almost nothing but silence.") % {"kb": max(1, size // 1024)},
                          code="out_of_proportion")


def _daily_message() -> str:
    return gettext("You can upload %(length)s of audio a day; try again tomorrow.") % {
        "length": audio.clock(settings.TRACK_DAILY_SECONDS)}


def _claimed(found: audio.Sniffed) -> float:
    """The seconds an upload is charged before its decode: the length it states, or FFmpeg's estimate from its
    size (an MP3 without a Xing frame), which is held to the per-upload limit as it may be far off."""
    if found.stated:
        return found.seconds
    return min(found.seconds or 0.0, float(min(settings.TRACK_MAX_SECONDS, settings.TRACK_DAILY_SECONDS)))


def check_upload(found: audio.Sniffed, *, size: int, uploader) -> None:
    """Refuse an upload the pipeline cannot take, from what the file states (an estimated length is not held
    against it: the probe decodes the truth). Raises NotAudio, or RateLimited when the day's audio is spent."""
    _check_shape(found)
    if found.stated:
        for longest, code in _bounds(found, size):
            if found.seconds > longest:
                raise _refusal(code, size=size)
    _check_day(_used_today(uploader.id), _claimed(found))


def charge_upload(found: audio.Sniffed, *, uploader) -> None:
    """Count the upload against the uploader's day, or raise RateLimited. Call it inside the transaction that saves
    the track: the day's row stays locked until then, so parallel uploads cannot both take the last minutes."""
    day, _ = UploadDay.objects.select_for_update().get_or_create(user_id=uploader.id, day=_today())
    _check_day(day.audio_ms, _claimed(found))
    UploadDay.objects.filter(pk=day.pk).update(audio_ms=F("audio_ms") + round(_claimed(found) * 1000))


def _check_day(used_ms: int, seconds: float) -> None:
    if used_ms + seconds * 1000 > settings.TRACK_DAILY_SECONDS * 1000:
        now = timezone.now()
        midnight = datetime.datetime.combine(_today() + datetime.timedelta(days=1), datetime.time(),
                                             tzinfo=datetime.UTC)
        message = _daily_message()
        raise RateLimited(message, code="daily_limit", fields={"file": [message]},
                          retry_after=max(1, int((midnight - now).total_seconds())))


def _today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def _used_today(user_id: int) -> int:
    return UploadDay.objects.filter(user_id=user_id, day=_today()).values_list("audio_ms", flat=True).first() or 0


def correct_day(user_id: int, delta_ms: int) -> None:
    """Add `delta_ms` (maybe negative) to the member's day. The probe calls it in the transaction that records the
    decoded length, so a probe run twice corrects once."""
    with transaction.atomic():
        day, _ = UploadDay.objects.select_for_update().get_or_create(user_id=user_id, day=_today())
        day.audio_ms = max(0, day.audio_ms + delta_ms)
        day.save(update_fields=["audio_ms"])


def probe(track: Track, path: str) -> tuple[audio.Probe, int]:
    """Decode the original within the limits (audio.probe): the probe, and the correction (ms) its decoded length
    makes to what the upload was charged, for `correct_day`. Raises NotAudio with the reason; a decode cut short
    by the day's limit spends the rest of the owner's day."""
    found = audio.sniff(path)
    size = os.path.getsize(path)
    _check_shape(found)
    charged = _claimed(found)
    day_left = max(0.0, settings.TRACK_DAILY_SECONDS - _used_today(track.owner_id) / 1000)
    # A stated length and the decoded one differ by a few frames (encoder delay, padding): a full day still
    # takes the track it was charged for.
    slack = max(1.0, 0.01 * charged)
    longest, code = min([*_bounds(found, size), (charged + slack + day_left, "daily_limit")])
    try:
        decoded = audio.probe(path, max_seconds=longest)
    except audio.NotAudio as exc:
        if exc.code != "too_long":
            raise
        if code == "daily_limit":
            correct_day(track.owner_id, round(day_left * 1000))
        raise _refusal(code, size=size) from None
    return decoded, round((decoded.duration - charged) * 1000)


def forget_old_days() -> int:
    """Drop the days no limit reads any more (before yesterday)."""
    return UploadDay.objects.filter(day__lt=_today() - datetime.timedelta(days=1)).delete()[0]
