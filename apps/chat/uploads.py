"""Files sent in the same request as their message (Discord's way: a bot's or a webhook's multipart
body carries the message's JSON in `payload_json` next to `files[n]`), where a member's client
uploads each file first and sends their ids."""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.utils.translation import gettext

from apps.core.errors import ValidationFailed
from apps.core.parsers import refuse_unstorable
from apps.core.untrusted import loads

from . import services
from .models import Attachment, Message


def json_and_files(request) -> tuple[object, list]:
    """The request's JSON and its files: a JSON body, or a multipart body whose JSON is in
    `payload_json` (or, without it, the form's plain fields) next to its files. The caller checks
    that the JSON is an object."""
    data = request.data
    files = [f for name in sorted(request.FILES, key=_file_order) for f in request.FILES.getlist(name)] \
        if getattr(request, "FILES", None) else []
    if hasattr(data, "getlist"):  # multipart or a form
        if "payload_json" in data:
            try:
                data = loads(data["payload_json"])
            except ValueError:
                raise ValidationFailed.field("payload_json", gettext("payload_json is not valid JSON.")) from None
            refuse_unstorable(data)  # a JSON escape (\u0000) passed the form field's own check
        else:
            data = {k: data.get(k) for k in data if k not in request.FILES}
    if len(files) > services.MAX_ATTACHMENTS_PER_MESSAGE:
        raise ValidationFailed.field("files", gettext("A message has at most %(n)s attachments.")
                                     % {"n": services.MAX_ATTACHMENTS_PER_MESSAGE})
    return data, files


def _file_order(name: str):
    """files[0], files[1], ..., files[10] in that order (not the text order), then other names."""
    inside = name[len("files["):-1] if name.startswith("files[") and name.endswith("]") else ""
    return (0, int(inside), "") if inside.isdigit() else (1, 0, name)


def max_body_bytes() -> int:
    """The body limit of an endpoint taking files with the message: one file's limit for all of
    them together (Discord's rule), plus the multipart envelope."""
    from apps.core.bodylimit import ENVELOPE_BYTES

    return settings.ATTACHMENT_MAX_BYTES + ENVELOPE_BYTES


def send_with_files(send: Callable[[list[int]], Message], *, store: Callable[[object], Attachment],
                    files: list) -> Message:
    """`store` each file (services.upload_attachment's checks), then `send(attachment_ids)`. When a
    file or the send is refused, the files stored for it are deleted: nothing is left half-sent."""
    stored: list[Attachment] = []
    try:
        for upload in files:
            stored.append(store(upload))
        return send([a.id for a in stored])
    except Exception:
        for att in stored:
            services.delete_attachment(att, sent_at__isnull=True)
        raise
