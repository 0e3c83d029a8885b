"""How many threads the toxicity encoders compute with in a worker (features.threads): the cores the
process owns shared among the tasks the worker runs at once, so that one worker uses the machine
and several do not oversubscribe it; TOXICITY_THREADS fixes it. Real Celery workers are built (not
started) with the project's app: moderation sets it when a worker starts (hooks.worker_started)."""
from __future__ import annotations

import pytest
from celery.worker import WorkController

from apps.moderation.toxicity import features
from celery_app import app


@pytest.fixture(autouse=True)
def no_worker_yet(settings):
    settings.TOXICITY_THREADS = 0
    before = features._worker_slots
    yield
    features._worker_slots = before


@pytest.mark.parametrize(("pool", "concurrency", "tasks_at_once"),
                         [("solo", None, 1), ("prefork", 1, 1), ("prefork", 2, 2), ("threads", 4, 4)])
def test_a_worker_shares_its_cores_among_the_tasks_it_runs_at_once(pool, concurrency, tasks_at_once):
    WorkController(app=app, pool_cls=pool, concurrency=concurrency, queues=["moderation"])
    assert features.threads() == max(1, features.cores() // tasks_at_once)


def test_the_setting_fixes_the_thread_count(settings):
    WorkController(app=app, pool_cls="prefork", concurrency=2, queues=["moderation"])
    settings.TOXICITY_THREADS = 3
    assert features.threads() == 3


def test_outside_a_worker_the_scorer_takes_every_core():
    features._worker_slots = None
    assert features.threads() == features.cores()
