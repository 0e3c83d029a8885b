"""The tracks media pipeline on the `media` queue: one task per step, each a thin door onto a
service. They take ids, never objects; a step is idempotent (the service skips work the row says
is done), so a task redelivered after a worker died (acks_late) does no harm."""
from celery import chain, shared_task
from django.db import DatabaseError

from apps.core import unavailable

from . import audio, pipeline, services

TRANSIENT = (pipeline.TransientMediaError, DatabaseError, ConnectionError, TimeoutError, OSError)
RETRIES = 5


def _run(task, step, track_id: int) -> str:
    try:
        return step(track_id)
    except audio.NotAudio:
        return "failed"  # the service has failed the track with the reason; the next steps skip it
    except Exception as exc:
        # An S3 that does not answer is as passing as a database hiccup: retried, not the file's fault.
        if not isinstance(exc, TRANSIENT) and unavailable.dependency(exc) is None:
            raise
        if task.request.retries >= RETRIES:
            pipeline.fail_track(track_id, reason="Processing failed; please upload the track again.")
            raise
        raise task.retry(exc=exc, countdown=2 ** task.request.retries) from exc


@shared_task(name="media.track_probe", bind=True, max_retries=RETRIES, acks_late=True)
def probe(self, track_id: int) -> str:
    return _run(self, pipeline.probe_track, track_id)


@shared_task(name="media.track_waveform", bind=True, max_retries=RETRIES, acks_late=True)
def waveform(self, track_id: int) -> str:
    return _run(self, pipeline.make_waveform, track_id)


@shared_task(name="media.track_renditions", bind=True, max_retries=RETRIES, acks_late=True)
def renditions(self, track_id: int) -> str:
    return _run(self, pipeline.make_renditions, track_id)


@shared_task(name="media.track_artwork", bind=True, max_retries=RETRIES, acks_late=True)
def artwork(self, track_id: int) -> str:
    return _run(self, pipeline.make_artwork, track_id)


def process_track(track_id: int) -> None:
    """Queue the whole pipeline for a new upload."""
    chain(probe.si(track_id), waveform.si(track_id), renditions.si(track_id), artwork.si(track_id)).delay()


@shared_task(name="tracks.recompute_trending", acks_late=True)
def recompute_trending() -> int:
    """Celery beat runs this every 10 minutes (celery_app/app.py); running it twice is harmless."""
    return services.recompute_trending()
