"""Attachment files, served only to members who can view their channel (never a public media URL).

With the local file storage the file is streamed; with a remote storage (S3) the view answers with a
redirect to a short-lived signed URL that carries the same Content-Disposition and type."""
import re

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from apps.core.errors import NotFound

from . import selectors
from .media import DOWNLOAD_TYPE
from .models import Attachment
from .preview_services import MEDIA_FOLDER

SIGNED_URL_SECONDS = 300


def _readable(request, attachment_id: int) -> Attachment:
    try:
        return selectors.readable_attachment(request.user, attachment_id)
    except NotFound:
        raise Http404 from None


def _serve(name: str, *, filename: str, content_type: str, inline: bool):
    disposition = content_disposition_header(not inline, filename)
    if not isinstance(default_storage, FileSystemStorage):
        url = default_storage.url(name, parameters={"ResponseContentDisposition": disposition,
                                                    "ResponseContentType": content_type},
                                  expire=SIGNED_URL_SECONDS)
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"
        return response
    try:
        fh = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(fh, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    # Even a file a browser would render can run nothing and reach nothing.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
def attachment_file(request, attachment_id: int, filename: str = ""):
    att = _readable(request, attachment_id)
    # Checked images are shown inline as what they are; everything else is only ever a download.
    if att.is_image:
        return _serve(att.file.name, filename=att.filename, content_type=att.content_type, inline=True)
    return _serve(att.file.name, filename=att.filename, content_type=DOWNLOAD_TYPE, inline=False)


@require_safe
def attachment_thumbnail(request, attachment_id: int):
    att = _readable(request, attachment_id)
    if not att.thumbnail.name or att.state != Attachment.State.READY:
        raise Http404
    return _serve(att.thumbnail.name, filename="thumbnail.webp", content_type="image/webp", inline=True)


@require_safe
def embed_media(request, name: str):
    """The WebP copy of an image an embed or a webhook named (apps.chat.preview_services.copy_image):
    public like the image it copies, and loaded from this site, as the CSP wants."""
    if not re.fullmatch(r"[0-9a-f]{64}", name):
        raise Http404
    path = f"{MEDIA_FOLDER}/{name}.webp"
    if not isinstance(default_storage, FileSystemStorage):
        return HttpResponseRedirect(default_storage.url(path, expire=SIGNED_URL_SECONDS))
    try:
        fh = default_storage.open(path, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(fh, content_type="image/webp")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=86400"
    return response
