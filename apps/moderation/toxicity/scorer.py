"""The context-aware scorer behind the Scorer interface (MODERATION_SCORER =
"apps.moderation.toxicity.scorer.ToxicityScorer"). It scores with the promoted ToxicityModel, its
encoders in ONNX Runtime where it has them (engines), and picks up a newly promoted version within a
minute; without the ML packages or a promoted model it scores with alt-profanity-check instead and
says so once in the log."""
from __future__ import annotations

import logging
import threading
import time

from apps.moderation.scoring import ProfanityCheckScorer

from . import engines, features

log = logging.getLogger("apps.moderation.toxicity")
RECHECK_SECONDS = 60.0
REPORTED = "moderation:scorer-fallback"  # the cache key where workers say why they fall back


def reported_fallback() -> str | None:
    """Why a worker's scorer last fell back (an artifact it could not load...), None once it scores
    with the model again: the admin's own check cannot see what failed in a worker."""
    from django.core.cache import cache

    return cache.get(REPORTED)


def _report(reason: str | None) -> None:
    from django.core.cache import cache

    try:
        if reason:
            cache.set(REPORTED, reason, 7 * 86400)
        else:
            cache.delete(REPORTED)
    except Exception:  # the cache down: the log line stands
        log.debug("could not record the scorer's state in the cache", exc_info=True)


def fallback_reason() -> str | None:
    """Why the toxicity model cannot score here, or None when it can."""
    from apps.moderation.models import ToxicityModel

    if not features.ml_available():
        return "the ML packages (requirements/ml.txt) are not installed"
    if not ToxicityModel.objects.filter(promoted=True).exists():
        return "no toxicity model has been trained and promoted yet (manage.py train_toxicity)"
    return None


class ToxicityScorer:
    def __init__(self):
        self._lock = threading.Lock()
        self._fallback = ProfanityCheckScorer()
        self._model = None
        self._encoder: features.MemoEncoder | None = None
        self._version: int | None = None
        self._checked = 0.0
        self._warned: str | None = None

    @property
    def name(self) -> str:
        return f"toxicity-v{self._version}" if self._model is not None else self._fallback.name

    @property
    def engine(self) -> str:
        """What embeds: "onnxruntime", "torch", or "" while falling back."""
        return self._encoder.engine if self._model is not None else ""

    def _current(self):
        """(the promoted model, its encoder), reloaded when another version was promoted; a None model
        means fall back."""
        with self._lock:
            now = time.monotonic()
            if self._checked and now - self._checked < RECHECK_SECONDS:
                return self._model, self._encoder
            self._checked = now
            from apps.moderation.models import ToxicityModel

            try:
                reason = fallback_reason()
                row = None if reason else ToxicityModel.objects.filter(promoted=True).first()
            except Exception as exc:  # the registry unreadable (database down): score all the same
                reason, row = f"the toxicity model registry could not be read ({exc.__class__.__name__})", None
            if row is not None and row.version != self._version:
                from .training import load_artifact

                try:
                    model, meta = load_artifact(row.artifact)
                    self._encoder = engines.version_encoder(meta)
                    self._model, self._version = model, row.version
                except RuntimeError as exc:  # no engine here can run this version
                    reason = f"toxicity model v{row.version} cannot score here: {exc}"
                except Exception as exc:  # a missing or unreadable artifact: keep scoring all the same
                    reason = f"the artifact of toxicity model v{row.version} could not be loaded ({exc})"
            if reason:
                self._model, self._encoder, self._version = None, None, None
                if self._warned != reason:
                    log.warning("Toxicity scoring falls back to alt-profanity-check: %s.", reason)
                    self._warned = reason
                    _report(reason)
            elif self._warned:
                self._warned = None
                _report(None)
            return self._model, self._encoder

    def analyse(self, texts: list[str]) -> tuple[list[float], list[dict[str, float]]]:
        """(score per text, per-category scores per text: empty dicts when falling back)."""
        if not texts:
            return [], []
        model, encoder = self._current()
        if model is None:
            return self._fallback.score(texts), [{} for _ in texts]
        scores, cats = model.predict(list(texts), encoder.encode(list(texts)))
        return [min(1.0, max(0.0, float(s))) for s in scores], cats

    def score(self, texts: list[str]) -> list[float]:
        return self.analyse(texts)[0]

    def score_categories(self, texts: list[str]) -> list[dict[str, float]]:
        return self.analyse(texts)[1]
