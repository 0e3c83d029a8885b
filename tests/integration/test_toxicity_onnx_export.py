"""e5's export with its feed-forward output projections split (onnx_export.E5_FLOAT_CHANNELS): the
few channels with outlying GELU outputs float32, the rest int8. It must give the float graph's
vectors as closely as the export before (the whole projection float32), and a head fitted on the
export before must rank the held-out split the same on the split export's vectors: that is what
lets the new export replace the old without a change in what moderators see.

ONNX Runtime only (no torch): e5 at the depth versions are trained with now, on a stratified part
of the held-out split, a head fitted on a stratified part of the training split."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from scipy.stats import spearmanr

from apps.moderation.toxicity import features, onnx_encoder, onnx_export, training  # noqa: E402
from apps.moderation.toxicity.classifier import Classifier, Params  # noqa: E402
from tests.integration.test_toxicity_onnx import assert_same_ranking, stratified  # noqa: E402

DEPTH = onnx_export.E5_DEPTH


def encoder(models: dict[str, bytes]) -> onnx_encoder.OnnxEncoder:
    return onnx_encoder.OnnxEncoder(models, threads=1)


@pytest.fixture(scope="module")
def exports():
    """{"before": the whole projections float32, "split": the export now}, e5 only."""
    return {"before": onnx_export.export(0, DEPTH, float_channels=0),
            "split": onnx_export.export(0, DEPTH)}


def in_batches(enc, texts: list[str], size: int = 32) -> np.ndarray:
    return np.vstack([enc.encode(texts[i:i + size]) for i in range(0, len(texts), size)])


def test_only_the_outlying_channels_stay_float(exports):
    graph = onnx.load_from_string(exports["split"][onnx_export.E5_FILE]).graph
    kinds = {}
    for node in graph.node:
        for prefix in (onnx_export.DOWN, onnx_export.SPLIT):
            if node.name.startswith(prefix):
                kinds.setdefault(prefix, set()).add(node.op_type)
    assert kinds[onnx_export.DOWN] <= {"MatMul", "Add"}  # float32, as in the export before
    assert kinds[onnx_export.SPLIT] & {"MatMulInteger", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"}
    float_weights = {i.name: i for i in graph.initializer}
    widths = [float_weights[n.input[1]].dims[0] for n in graph.node
              if n.name.startswith(onnx_export.DOWN) and n.op_type == "MatMul"]
    assert widths == [onnx_export.E5_FLOAT_CHANNELS] * DEPTH
    # the channels picked are the ones whose GELU outputs stand out in every layer
    peaks = onnx_export.gelu_peaks(DEPTH, onnx_export.calibration_texts()[:64])
    assert all(layer.max() > 2 * np.percentile(layer, 99) for layer in peaks[[0, 4, 5]])


def test_the_split_export_gives_the_float_vectors_as_closely_as_the_export_before(exports):
    _, held_out = training.split(training.read_csv(training.SEED_FILE), [])
    texts = [e.text for e in stratified(held_out, 30, seed=3)]
    exact = in_batches(encoder({onnx_export.E5_FILE: onnx_export.e5_float(DEPTH)}), texts)
    cols = features.columns(features.E5)
    cos = {name: (in_batches(encoder(models), texts)[:, cols] * exact[:, cols]).sum(axis=1)
           for name, models in exports.items()}
    assert cos["split"].min() > 0.99 and cos["split"].mean() > 0.997, cos["split"]
    assert cos["split"].mean() > cos["before"].mean() - 0.001, {k: c.mean() for k, c in cos.items()}


def test_a_head_ranks_the_held_out_split_the_same_on_the_split_export(exports):
    train_rows, held_out = training.split(training.read_csv(training.SEED_FILE), [])
    before, split = encoder(exports["before"]), encoder(exports["split"])
    fit_on = stratified(train_rows, 100, seed=1)
    head = Classifier(Params()).fit([e.text for e in fit_on], [e.fine for e in fit_on],
                                    in_batches(before, [e.text for e in fit_on]))
    rows = stratified(held_out, 40, seed=2)
    texts, y = [e.text for e in rows], np.array([e.toxic for e in rows])
    lang = np.array([e.lang for e in rows])
    old, _ = head.predict(texts, in_batches(before, texts))
    new, _ = head.predict(texts, in_batches(split, texts))
    assert_same_ranking(new, old, y, lang)


def test_a_message_scores_the_same_in_a_batch_cut_by_length_as_alone(exports):
    """Batches are cut into runs of similar length (onnx_encoder.chunks), each with its own activation
    scale: a message's score must not depend on the messages it happens to be batched with."""
    train_rows, held_out = training.split(training.read_csv(training.SEED_FILE), [])
    split = encoder(exports["split"])
    fit_on = stratified(train_rows, 60, seed=1)
    head = Classifier(Params()).fit([e.text for e in fit_on], [e.fine for e in fit_on],
                                    in_batches(split, [e.text for e in fit_on]))
    texts = [e.text for e in stratified(held_out, 16, seed=4)]  # 64 messages of every length seen
    batched = in_batches(split, texts)
    split.forget()
    alone = np.vstack([split.encode([t]) for t in texts])
    cols = features.columns(features.E5)
    cos = (batched[:, cols] * alone[:, cols]).sum(axis=1)
    assert cos.min() > 0.99 and cos.mean() > 0.997, cos
    together, _ = head.predict(texts, batched)
    one_by_one, _ = head.predict(texts, alone)
    assert np.abs(together - one_by_one).max() < 0.05, np.abs(together - one_by_one).max()
    assert spearmanr(together, one_by_one).statistic >= 0.99
