"""Writes about what a message shows under its text: link previews (made by the unfurl task),
copies of the images its embeds name, and the author's choice to remove the previews."""
from __future__ import annotations

import hashlib
import io
import re
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http.request import validate_host

from apps.core import fetch, images
from apps.guilds.permissions import Permission
from apps.guilds.selectors import access_channel, moderator_channel_access

from . import embeds, markdown, unfurl
from .models import Message
from .services import _loaded, _publish_message_update, _publish_update

MAX_PREVIEWS = 3
# However many images a message names (10 embeds × 4), one task copies at most this many, and starts
# no new fetch past its time budget: each fetch is bounded (5 s), so the task is too.
MAX_IMAGES = 12
BUDGET_SECONDS = 40
THUMBNAIL_SIZE = 400
MEDIA_FOLDER = "embed-media"
_TRACK_PATH = re.compile(r"^/tracks/\d+/?$")


@transaction.atomic
def suppress_embeds(*, actor, message: Message, suppress: bool = True) -> Message:
    """Remove (or bring back) a message's link previews: its author, or a moderator
    (MANAGE_MESSAGES). Rich embeds stay: they are what the sender wrote."""
    if message.author_id == actor.id:
        access_channel(actor, message.channel_id)
    else:
        moderator_channel_access(actor, message.channel_id).require(Permission.MANAGE_MESSAGES)
    if message.suppress_embeds != suppress:
        Message.objects.filter(pk=message.pk).update(suppress_embeds=suppress)
        message = _loaded(message.id)
        _publish_update(message)
    return message


def _own_track_link(url: str) -> bool:
    """A link to a track of this site: the chat shows its player card, not a preview."""
    parts = urlsplit(url)
    return validate_host(parts.hostname or "", settings.ALLOWED_HOSTS) and bool(_TRACK_PATH.match(parts.path))


def media_name(url: str) -> str:
    return f"{MEDIA_FOLDER}/{hashlib.sha256(url.encode()).hexdigest()}.webp"


def copy_image(url: str, *, resolver=None) -> str | None:
    """A WebP thumbnail of the image at `url` in storage (its name), through the SSRF-safe fetcher
    and the upload pipeline's image checks; None when it cannot be fetched or read."""
    name = media_name(url)
    if default_storage.exists(name):
        return name
    try:
        got = fetch.fetch(url, accept=("image/",), resolver=resolver)
        data = images.webp_thumbnails(io.BytesIO(got.body), [THUMBNAIL_SIZE])[THUMBNAIL_SIZE]
    except (fetch.FetchRefused, *images.BAD_IMAGE_ERRORS):
        return None
    return default_storage.save(name, ContentFile(data))


def unfurl_message(message_id: int, *, links: bool, resolver=None) -> str:
    """Preview the first links of a message (when `links`: its sender may embed links) and copy the
    images its embeds and webhook avatar name, then publish MESSAGE_UPDATE. Idempotent."""
    msg = Message.objects.filter(pk=message_id).first()
    if msg is None:
        return "gone"
    deadline = time.monotonic() + BUDGET_SECONDS
    previews = None
    if links:
        previews = []
        for url in markdown.links(msg.content, limit=MAX_PREVIEWS):
            if _own_track_link(url) or time.monotonic() > deadline:
                continue
            found = unfurl.preview(url, resolver=resolver)
            if found:
                previews.append(found)
    wanted = embeds.image_urls([*(msg.embeds or []), *(previews or [])])
    if msg.webhook_avatar_url:  # first: the avatar shows on every post
        wanted = [msg.webhook_avatar_url, *(u for u in wanted if u != msg.webhook_avatar_url)]
    proxied = {}
    for url in wanted[:MAX_IMAGES]:
        if url in (msg.proxied or {}) or time.monotonic() > deadline:
            continue
        name = copy_image(url, resolver=resolver)
        if name:
            proxied[url] = name
    if previews is None and not proxied:
        return "unchanged"
    store_unfurl(message_id, previews=previews, proxied=proxied)
    return "updated"


def store_unfurl(message_id: int, *, previews: list[dict] | None, proxied: dict[str, str]) -> Message | None:
    """Merge what the unfurl task found into the message and publish MESSAGE_UPDATE: its previews
    (None: leave them) and its image copies. None if it is gone."""
    with transaction.atomic():
        msg = Message.objects.select_for_update(of=("self",)).filter(pk=message_id).first()
        if msg is None:
            return None
        fields = ["proxied"]
        msg.proxied = {**(msg.proxied or {}), **proxied}
        if previews is not None:
            msg.previews = previews
            fields.append("previews")
        msg.save(update_fields=fields)
        _publish_message_update(message_id)
    return msg
