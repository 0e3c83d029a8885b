"""The trained head. One multinomial logistic regression over fine classes: each toxic category, each
kind of hard negative (praise with swearing, game violence, quoted reports...), plain benign talk, and
moderators' labels. The toxicity score is the summed probability of the toxic classes, then a
calibration map; the category scores are the toxic classes' own probabilities. Learning the hard
negatives as classes of their own, rather than lumping them with "benign", is what lets the head tell
"I killed the boss" from "I'll kill you" (on cross-validation it cut hard-negative false positives by
a third against a binary head on the same features)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from . import features, linear

CATEGORIES = ("insult", "threat", "hate", "harassment", "sexual", "self_harm")
TOXIC_OTHER = "toxic"  # a moderator's "toxic" decision: no category given
BENIGN = "benign"
HARD_NEGATIVE = "neg:"  # prefix of the hard-negative classes


def fine_class(*, toxic: bool, category: str = "", hard_case: str = "") -> str:
    if toxic:
        return category if category in CATEGORIES else TOXIC_OTHER
    return HARD_NEGATIVE + hard_case if hard_case else BENIGN


def is_toxic_class(name: str) -> bool:
    return name in CATEGORIES or name == TOXIC_OTHER


@dataclass
class Params:
    # Chosen by 3-fold cross-validation on the training part only. Balanced class weights (the
    # small toxic categories count as much as plain talk) gained 0.01 AUC in both languages; C in
    # 2-16, char 1-6 grams, word trigrams, accent-folded n-grams, a French-only copy of the char
    # n-grams all moved it by less than 0.005, so the simplest stayed. The multilingual encoder is
    # what French needed: at weight 1 it took cross-validated French AUC from 0.82 to 0.86, and
    # weighting it up (less regularised than the n-grams) to 0.91 at 3; 2.5-6 with MiniLM at
    # 0.7-1.5 were all within 0.01 of that, on English too. Since e5 is read at its 8th layer
    # (onnx_export.E5_DEPTH), MiniLM adds nothing (held-out and cross-validated AUC as good or
    # better without it, in both languages): weight 0, it is neither read nor run.
    C: float = 4.0
    class_weight: str | None = "balanced"
    embedding_weight: float = 0.0  # all-MiniLM-L6-v2
    multilingual_weight: float = 3.0  # multilingual-e5-small
    max_iter: int = 3000
    tol: float = 1e-3  # newton-cg at this tolerance: same AUC as lbfgs at 1e-4, five times faster


@dataclass
class Classifier:
    params: Params = field(default_factory=Params)
    chars: TfidfVectorizer | None = None
    words: TfidfVectorizer | None = None
    head: LogisticRegression | None = None
    # Platt map from the summed toxic probability to the published score (see training.calibrate).
    calibration: tuple[float, float] = (1.0, 0.0)
    # The encoders whose vectors the head reads. A class attribute too, so that a version stored
    # before the multilingual encoder (its pickle has no such field) reads MiniLM's columns only.
    encoders: tuple[str, ...] = (features.MINILM,)

    def _weights(self) -> dict[str, float]:
        return {features.MINILM: self.params.embedding_weight, features.E5: self.params.multilingual_weight}

    def _embedded(self, embeddings: np.ndarray) -> np.ndarray:
        """The columns of features.Encoder.encode this head reads, weighted."""
        weights = self._weights()
        return np.hstack([embeddings[:, features.columns(name)] * weights[name] for name in self.encoders])

    def _matrix(self, texts: list[str], embeddings: np.ndarray) -> sparse.csr_matrix:
        norm = [features.normalise(t) for t in texts]
        return sparse.hstack([
            self.chars.transform(norm),
            self.words.transform(norm),
            sparse.csr_matrix(self._embedded(embeddings)),
            sparse.csr_matrix(features.profanity(norm)),
        ]).tocsr()

    def fit(self, texts: list[str], classes: list[str], embeddings: np.ndarray) -> Classifier:
        # an encoder weighted 0 is not read at all (nor exported: onnx_export.depth)
        self.encoders = tuple(name for name, w in self._weights().items() if w > 0)
        norm = [features.normalise(t) for t in texts]
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True,
                                     dtype=np.float32).fit(norm)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                                     token_pattern=r"(?u)\b\w+\b", dtype=np.float32).fit(norm)
        self.head = LogisticRegression(C=self.params.C, max_iter=self.params.max_iter, solver="newton-cg",
                                       tol=self.params.tol, class_weight=self.params.class_weight)
        self.head.fit(self._matrix(texts, embeddings), classes)
        return self

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_linear"}  # rebuilt on load, not stored

    def _fast(self) -> linear.Head:
        """The fitted head read into arrays (linear.Head), built on first use after fit or load."""
        head = self.__dict__.get("_linear")
        if head is None or head.model is not self or head.fitted is not self.head:
            head = self.__dict__["_linear"] = linear.Head(self)
        return head

    def raw(self, texts: list[str], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(summed toxic probability per text, class probability matrix): scikit-learn's
        predict_proba on _matrix, computed by linear.Head."""
        norm = [features.normalise(t) for t in texts]
        proba = self._fast().predict_proba(norm, embeddings, features.profanity(norm).ravel())
        toxic = np.array([is_toxic_class(c) for c in self.head.classes_])
        return proba[:, toxic].sum(axis=1), proba

    def predict(self, texts: list[str], embeddings: np.ndarray) -> tuple[np.ndarray, list[dict[str, float]]]:
        """(calibrated toxicity score per text, per-category scores per text)."""
        if not texts:
            return np.zeros(0), []
        summed, proba = self.raw(texts, embeddings)
        scores = calibrate(summed, self.calibration)
        index = {c: i for i, c in enumerate(self.head.classes_)}
        cats = [{c: round(float(row[index[c]]), 4) for c in CATEGORIES if c in index} for row in proba]
        return scores, cats


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def calibrate(p: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    a, b = ab
    return 1.0 / (1.0 + np.exp(-(a * _logit(np.asarray(p, dtype=np.float64)) + b)))


def fit_calibration(p: np.ndarray, y: np.ndarray, hard_negative: np.ndarray, *, threshold: float,
                    max_hard_fpr: float) -> tuple[float, float]:
    """Platt scaling of out-of-fold probabilities, then, if hard negatives would still cross the
    review threshold too often, a shift so that at most `max_hard_fpr` of them do: the review
    threshold is where a moderator's time goes, and it is the false alarms on hard cases that waste it."""
    lr = LogisticRegression(C=1e6, max_iter=1000).fit(_logit(p).reshape(-1, 1), y)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    hard = _logit(p[hard_negative])
    if len(hard):
        # the logit of the review threshold must sit above the (1 - max_hard_fpr) quantile of hard negatives
        needed = _logit(np.array([threshold]))[0] - a * float(np.quantile(hard, 1 - max_hard_fpr))
        b = min(b, needed - 1e-3)
    return a, b
