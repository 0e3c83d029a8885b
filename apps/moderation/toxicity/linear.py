"""The linear parts of the scorer without scikit-learn's per-call machinery: the head over the
character and word n-grams, and alt-profanity-check's vectoriser and calibrated SVMs. scikit-learn
validates its input, builds a sparse matrix and dispatches per call, about 5 ms a call whatever the
batch; one message at a time that was a third of a score. Here each model's weights are read once
into a dict (term → row) and numpy arrays, with the IDF folded into the weight rows, and a text's
terms are looked up and summed directly. The terms come from the fitted vectorisers' own analysers
(build_analyzer), so the features are the same; the scores equal scikit-learn's to rounding
(tests/unit/test_toxicity_linear.py). Built on first use from the fitted objects: nothing new is
stored with a model version."""
from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import sparse


class Terms:
    """A fitted TfidfVectorizer (norm "l2") as an analyser, a term → row dict and a weight matrix
    [terms, outputs] = idf × the weights the model gives each term's column."""

    def __init__(self, vectorizer, weights: np.ndarray):
        self.analyse = vectorizer.build_analyzer()
        self.index = vectorizer.vocabulary_
        self.sublinear = vectorizer.sublinear_tf
        idf = vectorizer.idf_.astype(np.float64)
        self.weights = np.ascontiguousarray(weights * idf[:, None])
        self.idf = idf

    def dot(self, texts: list[str]) -> np.ndarray:
        """The texts' tf-idf rows (l2-normalised) times the weights: [texts, outputs]."""
        index, cols, counts, indptr = self.index, [], [], [0]
        for text in texts:
            found = Counter(col for term in self.analyse(text) if (col := index.get(term)) is not None)
            cols += found.keys()
            counts += found.values()
            indptr.append(len(cols))
        tf = np.asarray(counts, np.float64)
        if self.sublinear:
            tf = np.log(tf) + 1.0
        cols = np.asarray(cols, np.int64)
        x = tf * self.idf[cols]
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=x * x, minlength=len(texts)))
        # idf is in the weight rows: the row's entries are tf / ||tf × idf||
        return sparse.csr_matrix((tf / norms[rows], cols, np.asarray(indptr, np.int64)),
                                 shape=(len(texts), len(self.weights))) @ self.weights


class Profanity:
    """alt-profanity-check's predict_prob: a word TF-IDF, five linear SVMs (one per calibration
    fold) each through its sigmoid, the five probabilities averaged."""

    def __init__(self):
        from profanity_check import profanity_check as pc

        folds = pc.model.calibrated_classifiers_
        self.terms = Terms(pc.vectorizer, np.stack([f.estimator.coef_[0] for f in folds], axis=1))
        self.bias = np.array([f.estimator.intercept_[0] for f in folds], np.float64)
        self.a = np.array([f.calibrators[0].a_ for f in folds], np.float64)
        self.b = np.array([f.calibrators[0].b_ for f in folds], np.float64)

    def predict_prob(self, texts: list[str]) -> np.ndarray:
        d = self.terms.dot(texts) + self.bias
        return (1.0 / (1.0 + np.exp(self.a * d + self.b))).mean(axis=1)


_profanity: Profanity | None = None


def profanity(texts: list[str]) -> np.ndarray:
    global _profanity
    if _profanity is None:
        _profanity = Profanity()
    return _profanity.predict_prob(texts)


class Head:
    """A fitted classifier.Classifier's predict_proba: the multinomial head's logits summed from its
    n-gram rows, its (weighted) embedding columns and its alt-profanity-check column, then softmax."""

    def __init__(self, model):
        coef = model.head.coef_.astype(np.float64)  # [classes, features] in _matrix's column order
        n_chars, n_words = len(model.chars.vocabulary_), len(model.words.vocabulary_)
        width = coef.shape[1] - n_chars - n_words - 1
        self.chars = Terms(model.chars, coef[:, :n_chars].T)
        self.words = Terms(model.words, coef[:, n_chars:n_chars + n_words].T)
        self.embedded = np.ascontiguousarray(coef[:, n_chars + n_words:n_chars + n_words + width].T)
        self.profanity = coef[:, -1].copy()
        self.intercept = model.head.intercept_.astype(np.float64)
        self.model, self.fitted = model, model.head

    def predict_proba(self, norm: list[str], embeddings: np.ndarray, profanity: np.ndarray) -> np.ndarray:
        """`norm`: features.normalise'd texts; `profanity`: their alt-profanity-check probabilities."""
        logits = self.model._embedded(embeddings).astype(np.float64) @ self.embedded
        logits += profanity.reshape(-1, 1) * self.profanity + self.intercept
        logits += self.chars.dot(norm) + self.words.dot(norm)
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)
