"""Checks every uploaded image goes through before it is stored."""
import warnings

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from apps.core.errors import ValidationFailed

ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
MAX_PIXELS = 40_000_000


def validate_image(upload, *, field: str) -> None:
    """Refuse an upload that is too large, is not a decodable image, or is a decompression bomb."""
    if upload.size > settings.MAX_IMAGE_UPLOAD_BYTES:
        limit = settings.MAX_IMAGE_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationFailed.field(field, f"The image is larger than {limit} MB.")
    upload.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            with Image.open(upload) as img:
                fmt = img.format
                img.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError):
        raise ValidationFailed.field(field, "The file is not a valid image.") from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed.field(field, "Use a PNG, JPEG, GIF or WebP image.")
