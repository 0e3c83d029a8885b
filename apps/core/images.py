"""Checks every uploaded image goes through before it is stored, and the one way to open one."""
import io
import warnings

from django.conf import settings
from django.utils.translation import gettext
from PIL import Image, ImageOps, UnidentifiedImageError

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
        raise ValidationFailed.field(field, gettext("The image is larger than %(n)s MB.") % {"n": limit})
    upload.seek(0)
    try:
        with open_checked(upload) as img:
            fmt = img.format
            img.verify()
    except BAD_IMAGE_ERRORS:
        raise ValidationFailed.field(field, gettext("The file is not a valid image.")) from None
    finally:
        upload.seek(0)
    if fmt not in ALLOWED_FORMATS:
        raise ValidationFailed.field(field, gettext("Use a PNG, JPEG, GIF or WebP image."))


def webp_thumbnails(fileobj, sizes, *, square: bool = False, quality: int = 82) -> dict[int, bytes]:
    """WebP thumbnails of an image that fit in size × size, one per size; with `square` they are
    centre-cropped to fill the square (avatars). Raises one of BAD_IMAGE_ERRORS for a bad image."""
    with open_checked(fileobj) as img:
        img = ImageOps.exif_transpose(img)
        frame = img.convert("RGBA" if img.mode in ("RGBA", "LA", "P") else "RGB")
    out = {}
    for size in sizes:
        if square:
            thumb = ImageOps.fit(frame, (size, size), Image.Resampling.LANCZOS)
        else:
            thumb = frame.copy()
            thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        buf = io.BytesIO()
        thumb.save(buf, "WEBP", quality=quality, method=4)
        out[size] = buf.getvalue()
    return out
