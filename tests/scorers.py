"""Scorers for tests that run a real worker (MODERATION_SCORER names one in the worker's
environment): they record each call to the model in Redis, where the test reads them."""
import os
import time

import redis

CALLS = "test:scorer:batches"


class RecordingScorer:
    """0.9 for a text with "idiot", 0.1 otherwise; each call's batch size is pushed to CALLS. With
    SLOW_SCORER_SECONDS set it takes that long, so that a test can kill the worker mid-batch."""

    name = "recording"

    def __init__(self):
        self.redis = redis.Redis.from_url(os.environ["REDIS_URL"])

    def score(self, texts):
        self.redis.rpush(CALLS, len(texts))
        time.sleep(float(os.environ.get("SLOW_SCORER_SECONDS", "0")))
        return [0.9 if "idiot" in t else 0.1 for t in texts]


def batches() -> list[int]:
    return [int(n) for n in redis.Redis.from_url(os.environ["REDIS_URL"]).lrange(CALLS, 0, -1)]


class LockedDatabaseScorer:
    """Fails as scoring did on SQLite when it ran inside the request that wrote the message."""

    name = "locked"

    def score(self, texts):
        from django.db import OperationalError

        raise OperationalError("database is locked")


class SlowLoadingScorer:
    """A model that takes SCORER_LOAD_SECONDS (default 3) to load, as the toxicity model does: a
    request must never wait for it. Scores every text 0.1."""

    name = "slow-loading"

    def __init__(self):
        time.sleep(float(os.environ.get("SCORER_LOAD_SECONDS", "3")))

    def score(self, texts):
        return [0.1 for _ in texts]
