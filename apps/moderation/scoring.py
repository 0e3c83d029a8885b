"""Toxicity scorers. A scorer turns texts into scores in [0, 1] (1: surely toxic); which one runs is
the MODERATION_SCORER setting (a dotted path), so a site can plug in its own model."""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class Scorer(Protocol):
    name: str

    def score(self, texts: list[str]) -> list[float]:
        """One score in [0, 1] per text, in order."""


class ProfanityCheckScorer:
    """alt-profanity-check: a linear SVM over TF-IDF features, trained on English abuse; it ships its
    model inside the package. The model is loaded on first use, once per process, so importing this
    module (every web process does) costs nothing."""

    name = "alt-profanity-check"

    def __init__(self):
        self._lock = threading.Lock()
        self._predict = None

    def _predictor(self):
        with self._lock:
            if self._predict is None:
                from profanity_check import predict_prob

                self._predict = predict_prob
        return self._predict

    def score(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        return [min(1.0, max(0.0, float(p))) for p in self._predictor()(list(texts))]


def analyse(scorer: Scorer, texts: list[str]) -> tuple[list[float], list[dict[str, float]]]:
    """Scores, and per-category scores from a scorer that gives them (empty dicts otherwise)."""
    if hasattr(scorer, "analyse"):
        return scorer.analyse(texts)
    return scorer.score(texts), [{} for _ in texts]


@lru_cache(maxsize=4)
def _load(path: str) -> Scorer:
    return import_string(path)()


def get_scorer() -> Scorer:
    """The configured scorer, built once per process."""
    return _load(settings.MODERATION_SCORER)
