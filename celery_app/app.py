"""The Celery app, built from Django settings (CELERY_* names) with three queues:
`default`, `media` (waveforms, thumbnails, transcoding) and `moderation` (toxicity scoring)."""
import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")

app = Celery("smartc")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = (Queue("default"), Queue("media"), Queue("moderation"))
app.conf.task_routes = {
    "media.*": {"queue": "media"},
    "moderation.*": {"queue": "moderation"},
}
app.autodiscover_tasks()


@app.on_after_configure.connect
def beat_schedule(sender, **kwargs):
    """What `celery beat` (or the embedded beat of `make run`) sends, set once the Django settings
    it reads are loaded."""
    from django.conf import settings

    sender.conf.beat_schedule = {
        "purge-stale-attachments": {"task": "chat.purge_stale_attachments", "schedule": 3600.0},
        "recompute-trending-tracks": {"task": "tracks.recompute_trending",
                                      "schedule": settings.TRENDING_EVERY_SECONDS},
        # tracks whose worker was killed (or whose task was lost) end `failed`, not `processing` forever
        "fail-stalled-tracks": {"task": "tracks.fail_stalled_tracks", "schedule": 600.0},
        # scheduled track releases become visible within a minute of their time
        "publish-released-tracks": {"task": "tracks.publish_released_tracks", "schedule": 60.0},
        "retrain-toxicity-model": {"task": "moderation.retrain_toxicity", "schedule": 86400.0},
        # live messages are drained as they come; this picks up the ones a dead worker had claimed
        "score-pending-messages": {"task": "moderation.score_pending", "schedule": 60.0},
        # accounts whose grace period ended, and export files whose link expired
        "delete-due-accounts": {"task": "privacy.delete_due_accounts", "schedule": 3600.0},
        "purge-expired-exports": {"task": "privacy.purge_expired_exports", "schedule": 3600.0},
    }
