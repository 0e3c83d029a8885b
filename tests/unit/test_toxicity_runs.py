"""How a batch of messages is cut into runs of the e5 session (onnx_encoder.chunks): texts of similar
length together, so that short chat messages are not padded to the batch's longest one, and no run
so small that its shared activation scale moves a text's vector with its neighbours."""
from __future__ import annotations

import random

import pytest

from apps.moderation.toxicity import onnx_encoder


def padded(lengths: list[int], runs: list[list[int]]) -> int:
    return sum(len(run) * max(lengths[i] for i in run) for run in runs)


def sixteens(lengths: list[int]) -> list[list[int]]:
    """The cut before: sorted by length, runs of 16."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[s:s + 16] for s in range(0, len(order), 16)]


@pytest.mark.parametrize("seed", range(20))
def test_every_message_is_scored_once_with_less_padding_than_runs_of_sixteen(seed):
    rng = random.Random(seed)
    # token counts as e5 reads the seed's chat messages (prefix and markers included): 8 to 35
    lengths = [rng.choice([rng.randint(8, 24), rng.randint(8, 35)]) for _ in range(32)]
    runs = onnx_encoder.chunks(lengths)
    assert sorted(i for run in runs for i in run) == list(range(32))
    assert all(len(run) >= onnx_encoder.MIN_RUN_ROWS for run in runs)
    before = sixteens(lengths)
    cost = lambda rs: padded(lengths, rs) + onnx_encoder.RUN_TOKENS * len(rs)  # noqa: E731
    assert cost(runs) <= cost(before)
    # within a run texts are of neighbouring lengths
    spans = [(min(lengths[i] for i in run), max(lengths[i] for i in run)) for run in runs]
    assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:], strict=False))


def test_one_message_or_a_few_are_one_run():
    assert onnx_encoder.chunks([12]) == [[0]]
    assert onnx_encoder.chunks([30, 9, 14]) == [[1, 2, 0]]
    assert onnx_encoder.chunks([]) == []


def test_short_messages_of_one_length_are_not_padded_to_a_long_one():
    lengths = [12] * 24 + [30] * 8
    runs = onnx_encoder.chunks(lengths)
    assert padded(lengths, runs) == sum(lengths)


def test_long_messages_do_not_pad_the_short_ones():
    rng = random.Random(7)
    lengths = [rng.randint(8, 24) for _ in range(20)] + [rng.randint(60, 200) for _ in range(12)]
    runs = onnx_encoder.chunks(lengths)
    assert sorted(i for run in runs for i in run) == list(range(32))
    assert all(len(run) >= onnx_encoder.MIN_RUN_ROWS for run in runs)
    assert max(lengths[i] for i in runs[0]) <= 24  # the shortest run holds chat messages only


@pytest.mark.parametrize("count", [1, 7, 8, 9, 33, 256])
def test_any_batch_size_is_cut_into_runs_of_the_allowed_sizes(count):
    lengths = [random.Random(count).randint(8, 40) for _ in range(count)]
    runs = onnx_encoder.chunks(lengths)
    assert sorted(i for run in runs for i in run) == list(range(count))
    assert all(min(onnx_encoder.MIN_RUN_ROWS, count) <= len(run) <= onnx_encoder.MAX_RUN_ROWS for run in runs)
