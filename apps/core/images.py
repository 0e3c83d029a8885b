"""Checks every uploaded image goes through before it is stored, and the one way to open one."""
import warnings

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from apps.core.errors import ValidationFailed

ALLOWED_FORMATS = {"PNG", "JPEG", "GIF", "WEBP"}
# A decoded image costs width × height × 4 bytes: past this it is refused as a decompression bomb.
MAX_PIXELS = 40_000_000
BAD_IMAGE_ERRORS = (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
                    OSError, SyntaxError, ValueError, EOFError)


def open_checked(fileobj) -> Image.Image:
    """Image.open with the decompression-bomb limit raised as an error, not a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(fileobj)
        if img.width * img.height > MAX_PIXELS:
            raise Image.DecompressionBombError(f"{img.width}x{img.height} is too many pixels")
        return img


def validate_image(upload, *, field: str) -> None:
    """Refuse an upload that is too large, is not a decodable image, or is a decompression bomb."""
    if upload.size > settings.MAX_IMAGE_UPLOAD_BYTES:
        limit = settings.MAX_IMAGE_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationFailed.field(field, f"The image is larger than {limit} MB.")
    upload.seek(0)
    try:
        with open_checked(upload) as img:
            fmt = img.format
            img.verify()
    except BAD_IMAGE_ERRORS:
        raise ValidationFailed.field(field, "The file is not a valid image.") from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed.field(field, "Use a PNG, JPEG, GIF or WebP image.")
