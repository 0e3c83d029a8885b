"""The scorer's linear parts without scikit-learn's per-call machinery (apps/moderation/toxicity/linear):
alt-profanity-check's probabilities and the head's class probabilities are scikit-learn's, to
rounding, on real messages and the odd ones (empty, no known word, a word repeated), one at a time
and in batches; a pickled model scores the same after loading."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from profanity_check import predict_prob

from apps.moderation.toxicity import features, linear, training
from apps.moderation.toxicity.classifier import Classifier, Params, is_toxic_class

ODD = ["", "   ", "!!! ???", "🤬🤬🤬", "the the the the", "idiot " * 200, "t'es un c0nnard fini", "ＦＵＬＬ width"]


@pytest.fixture(scope="module")
def texts():
    return [e.text for e in training.read_csv(training.HOLDOUT_FILE)] + ODD


def test_alt_profanity_check_gives_the_packages_own_probabilities(texts):
    norm = [features.normalise(t) for t in texts]
    expected = predict_prob(norm)
    assert np.abs(linear.profanity(norm) - expected).max() < 1e-9
    # one at a time as in a batch: each text's probability depends on itself only
    assert np.abs(np.concatenate([linear.profanity([t]) for t in norm[:40]]) - expected[:40]).max() < 1e-9
    assert linear.profanity([]).shape == (0,)
    assert expected.min() < 0.1 and expected.max() > 0.9  # the comparison covers both ends


@pytest.fixture(scope="module")
def head():
    """A head fitted on part of the seed's training split, over stand-in embeddings (the linear
    algebra is what is compared: any vectors do)."""
    rows, _ = training.split(training.read_csv(training.SEED_FILE), [])
    rows = rows[:400]
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(len(rows), features.DIM * len(features.ENCODERS))).astype(np.float32) / 20
    return Classifier(Params(max_iter=300)).fit([e.text for e in rows], [e.fine for e in rows], emb)


def test_the_head_gives_scikit_learns_class_probabilities(head, texts):
    rng = np.random.default_rng(4)
    emb = rng.normal(size=(len(texts), features.DIM * len(features.ENCODERS))).astype(np.float32) / 20
    expected = head.head.predict_proba(head._matrix(texts, emb))
    summed, proba = head.raw(texts, emb)
    assert proba.shape == expected.shape == (len(texts), len(head.head.classes_))
    assert np.abs(proba - expected).max() < 1e-6
    one_by_one = np.vstack([head.raw([t], emb[i:i + 1])[1] for i, t in enumerate(texts[:30])])
    assert np.abs(one_by_one - expected[:30]).max() < 1e-6
    # and so the summed toxic probability the published score is calibrated from
    toxic = np.array([is_toxic_class(c) for c in head.head.classes_])
    assert np.abs(summed - expected[:, toxic].sum(axis=1)).max() < 1e-6

    # a stored model carries no precomputed arrays: they are rebuilt from the fitted head on load
    loaded = pickle.loads(pickle.dumps(head))
    assert "_linear" not in loaded.__dict__
    assert np.abs(loaded.raw(texts, emb)[1] - expected).max() < 1e-6
