"""What an uploaded file is, decided by its bytes, and the thumbnails of images. Pure Pillow work:
no database, no storage (services.py stores, tasks.py schedules)."""
from __future__ import annotations

import io
import os
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import SuspiciousFileOperation
from django.utils.text import get_valid_filename
from django.utils.translation import gettext
from PIL import Image, ImageOps

from apps.core.errors import ValidationFailed
from apps.core.images import BAD_IMAGE_ERRORS, MAX_PIXELS, open_checked

THUMBNAIL_BOX = (400, 400)
THUMBNAIL_QUALITY = 80
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".jpe", ".gif", ".webp"}
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
DOWNLOAD_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Inspected:
    content_type: str
    width: int | None = None
    height: int | None = None


def clean_filename(name: str) -> str:
    """A safe file name from what the browser sent: no folders, no control characters, at most
    100 characters with the extension kept; "file" when nothing usable is left."""
    name = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    try:
        name = get_valid_filename(name)
    except SuspiciousFileOperation:
        return "file"
    stem, ext = os.path.splitext(name)
    ext = ext[:16]
    return (stem[: 100 - len(ext)] or "file") + ext


def _looks_like_image(head: bytes) -> bool:
    return head.startswith(_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def _claims_image(filename: str, declared_type: str) -> bool:
    return (os.path.splitext(filename)[1].lower() in IMAGE_EXTENSIONS
            or (declared_type or "").split(";")[0].strip().lower() in IMAGE_TYPES.values())


def inspect(fileobj, *, filename: str, declared_type: str = "") -> Inspected:
    """What the upload is. Anything whose bytes, name or declared type say "PNG, JPEG, GIF or WebP"
    must decode fully as one of those (bombs and corrupt images are refused); everything else is a
    plain download, whatever it calls itself."""
    fileobj.seek(0)
    head = fileobj.read(16)
    fileobj.seek(0)
    if not (_looks_like_image(head) or _claims_image(filename, declared_type)):
        return Inspected(DOWNLOAD_TYPE)
    try:
        with open_checked(fileobj) as img:
            fmt, size = img.format, img.size
            img.verify()
        fileobj.seek(0)
        # verify() checks structure only; decoding every frame's first pass catches truncated data.
        with open_checked(fileobj) as img:
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationFailed(gettext("The image is too large to process (at most %(n)s megapixels).")
                               % {"n": MAX_PIXELS // 1_000_000}, code="image_too_large",
                               fields={"file": [gettext("Too many pixels.")]}) from None
    except BAD_IMAGE_ERRORS:
        raise ValidationFailed(gettext("The file is not a valid image."), code="invalid_image",
                               fields={"file": [gettext("The file is not a valid image.")]}) from None
    finally:
        fileobj.seek(0)
    if fmt not in IMAGE_TYPES:
        raise ValidationFailed(gettext("Images must be PNG, JPEG, GIF or WebP."), code="invalid_image",
                               fields={"file": [gettext("Images must be PNG, JPEG, GIF or WebP.")]})
    return Inspected(IMAGE_TYPES[fmt], width=size[0], height=size[1])


def make_thumbnail(fileobj) -> bytes:
    """A WebP that fits THUMBNAIL_BOX, keeps the aspect ratio, follows the EXIF orientation; an
    animation gives its first frame. Raises the Pillow/OS errors of a file it cannot read."""
    with open_checked(fileobj) as img:
        img.seek(0)
        if img.format == "JPEG":
            img.draft("RGB", (THUMBNAIL_BOX[0] * 2, THUMBNAIL_BOX[1] * 2))  # decode at a fraction of the size
        frame = ImageOps.exif_transpose(img)
        frame = frame.convert("RGBA" if _has_alpha(frame) else "RGB")
        frame.thumbnail(THUMBNAIL_BOX, Image.Resampling.LANCZOS)
        out = io.BytesIO()
        frame.save(out, "WEBP", quality=THUMBNAIL_QUALITY, method=4)
        return out.getvalue()


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info)
