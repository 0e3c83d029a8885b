"""The tracks media pipeline on the `media` queue: one task per step, each a thin door onto a
service. They take ids, never objects; a step is idempotent (the service skips work the row says
is done), so a task redelivered after a worker died (acks_late) does no harm.

Whatever goes wrong, the track ends `failed` with a reason its owner reads: bad audio (the service
says why), storage trouble that outlasts the retries, a step over its time limit, or any other
error of FFmpeg or numpy. A worker killed outright leaves the track to `fail_stalled_tracks`."""
import logging

from celery import chain, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError
from django.utils.translation import gettext

from apps.core import unavailable

from . import audio, editing, limits, pipeline, services

log = logging.getLogger(__name__)

TRANSIENT = (pipeline.TransientMediaError, DatabaseError, ConnectionError, TimeoutError, OSError)
RETRIES = 5
# Soft: the step gets SoftTimeLimitExceeded and fails the track; hard (a minute later): the worker
# process is killed, and the sweep fails the track. Only prefork workers enforce them.
LIMITS = {"soft_time_limit": settings.TRACK_STEP_TIME_LIMIT, "time_limit": settings.TRACK_STEP_TIME_LIMIT + 60}


def _run(task, step, track_id: int) -> str:
    try:
        return step(track_id)
    except audio.NotAudio:
        return "failed"  # the service has failed the track with the reason; the next steps skip it
    except SoftTimeLimitExceeded:
        pipeline.fail_track(track_id, reason=gettext("Processing this audio took too long."))
        return "failed"
    except Exception as exc:
        # An S3 that does not answer is as passing as a database hiccup: retried, not the file's fault.
        if isinstance(exc, TRANSIENT) or unavailable.dependency(exc) is not None:
            if task.request.retries >= RETRIES:
                pipeline.fail_track(track_id, reason=gettext("Processing failed; please upload the track again."))
                raise
            raise task.retry(exc=exc, countdown=2 ** task.request.retries) from exc
        # Not a fault of the machine, and not one the audio checks foresaw: the file makes FFmpeg or numpy fail
        # (a float WAV holding NaN stops the AAC encoder). Retrying would fail the same way.
        log.exception("track %s: %s failed", track_id, step.__name__)
        pipeline.fail_track(track_id, reason=gettext(
            "This audio could not be processed; converting it to MP3 or FLAC and uploading it again may help."))
        return "failed"


@shared_task(name="media.track_probe", bind=True, max_retries=RETRIES, acks_late=True, **LIMITS)
def probe(self, track_id: int) -> str:
    return _run(self, pipeline.probe_track, track_id)


@shared_task(name="media.track_waveform", bind=True, max_retries=RETRIES, acks_late=True, **LIMITS)
def waveform(self, track_id: int) -> str:
    return _run(self, pipeline.make_waveform, track_id)


@shared_task(name="media.track_renditions", bind=True, max_retries=RETRIES, acks_late=True, **LIMITS)
def renditions(self, track_id: int) -> str:
    return _run(self, pipeline.make_renditions, track_id)


@shared_task(name="media.track_artwork", bind=True, max_retries=RETRIES, acks_late=True, **LIMITS)
def artwork(self, track_id: int) -> str:
    return _run(self, pipeline.make_artwork, track_id)


def process_track(track_id: int) -> None:
    """Queue the whole pipeline for a new upload."""
    chain(probe.si(track_id), waveform.si(track_id), renditions.si(track_id), artwork.si(track_id)).delay()


@shared_task(name="tracks.recompute_trending", acks_late=True)
def recompute_trending() -> int:
    """Celery beat runs this every 10 minutes (celery_app/app.py); running it twice is harmless."""
    return services.recompute_trending()


@shared_task(name="tracks.fail_stalled_tracks", acks_late=True)
def fail_stalled_tracks() -> int:
    """Celery beat runs this every 10 minutes (celery_app/app.py); running it twice is harmless."""
    limits.forget_old_days()
    return pipeline.fail_stalled_tracks()


@shared_task(name="tracks.publish_released_tracks", acks_late=True)
def publish_released_tracks() -> int:
    """Celery beat runs this every minute (celery_app/app.py): scheduled releases whose time has come
    become visible. Running it twice is harmless."""
    return len(editing.publish_released_tracks())
