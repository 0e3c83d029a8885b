"""Building a data export: one zip with data.json (what SmaRTC holds about the member) and the files
they uploaded (avatar, attachments, track originals and covers). Only the member's own things, and
of other people only what the member was part of: the DMs and group DMs they are in."""
from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from apps.chat.models import Attachment, Message, Reaction
from apps.guilds.models import DMRecipient, Member
from apps.moderation.models import Report
from apps.tracks.models import Follow, Playlist, Track, TrackComment, TrackLike, TrackRepost

from .models import DataExport

log = logging.getLogger(__name__)


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _message(m: Message, *, with_author: bool = False) -> dict:
    out = {"id": m.id, "channel_id": m.channel_id, "content": m.content, "created_at": _when(m.created_at),
           "edited_at": _when(m.edited_at), "reply_to": m.reply_to_id,
           "attachments": [a.filename for a in m.attachments.all()]}
    if with_author:
        out["author"] = ({"id": m.author_id, "username": m.author.username} if m.author else None)
    return out


def collect(user) -> dict:
    """Everything data.json holds for `user`."""
    dm_channels = list(DMRecipient.objects.filter(user=user).select_related("channel")
                       .values_list("channel_id", "channel__type", "channel__name"))
    dm_ids = [cid for cid, _, _ in dm_channels]
    guild_messages = (Message.objects.filter(author=user, channel__guild__isnull=False)
                      .select_related("channel__guild").prefetch_related("attachments").order_by("id"))
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {"id": user.id, "username": user.username, "display_name": user.display_name,
                    "email": user.email, "bio": user.bio, "date_joined": _when(user.date_joined),
                    "last_login": _when(user.last_login), "avatar": bool(user.avatar)},
        "guilds": [{"id": m.guild_id, "name": m.guild.name, "nickname": m.nickname, "joined_at": _when(m.joined_at)}
                   for m in Member.objects.filter(user=user).select_related("guild")],
        "messages": [{**_message(m), "guild": m.channel.guild.name, "channel": m.channel.name}
                     for m in guild_messages],
        "direct_messages": [
            {"channel_id": cid, "type": ctype, "name": name,
             "messages": [_message(m, with_author=True) for m in
                          Message.objects.filter(channel_id=cid).select_related("author")
                          .prefetch_related("attachments").order_by("id")]}
            for cid, ctype, name in dm_channels],
        "reactions": [{"message_id": r.message_id, "emoji": r.emoji, "created_at": _when(r.created_at)}
                      for r in Reaction.objects.filter(user=user).order_by("id")],
        "tracks": [{"id": t.id, "title": t.title, "description": t.description, "genre": t.genre,
                    "tags": [tag.name for tag in t.tags.all()], "guild_id": t.guild_id, "state": t.state,
                    "visibility": t.visibility, "duration_ms": t.duration_ms, "created_at": _when(t.created_at),
                    "plays": t.play_count, "likes": t.like_count, "reposts": t.repost_count}
                   for t in Track.objects.filter(owner=user).prefetch_related("tags").order_by("id")],
        "track_comments": [{"track_id": c.track_id, "body": c.body, "position_ms": c.position_ms,
                            "created_at": _when(c.created_at)}
                           for c in TrackComment.objects.filter(author=user).order_by("id")],
        "playlists": [{"id": p.id, "title": p.title, "description": p.description, "public": p.is_public,
                       "tracks": list(p.entries.order_by("position").values_list("track_id", flat=True))}
                      for p in Playlist.objects.filter(owner=user).order_by("id")],
        "following": list(Follow.objects.filter(follower=user).values_list("followee__username", flat=True)),
        "followers": list(Follow.objects.filter(followee=user).values_list("follower__username", flat=True)),
        "likes": list(TrackLike.objects.filter(user=user).values_list("track_id", flat=True)),
        "reposts": list(TrackRepost.objects.filter(user=user).values_list("track_id", flat=True)),
        "reports": [{"id": r.id, "kind": r.kind, "target": r.target, "category": r.category, "details": r.details,
                     "state": r.state, "outcome": r.outcome, "created_at": _when(r.created_at)}
                    for r in Report.objects.filter(reporter=user).order_by("id")],
        "_dm_channel_ids": dm_ids,
    }


def _files(user) -> list[tuple[str, str]]:
    """(storage name, name in the zip) of each file the member uploaded."""
    out = []
    if user.avatar:
        out.append((user.avatar.name, f"files/avatar/{PurePosixPath(user.avatar.name).name}"))
    for att in Attachment.objects.filter(uploader=user, sent_at__isnull=False):
        out.append((att.file.name, f"files/attachments/{att.id}-{att.filename}"))
    for track in Track.objects.filter(owner=user):
        for field in (track.original, track.cover):
            if field:
                out.append((field.name, f"files/tracks/{track.id}/{PurePosixPath(field.name).name}"))
    return out


def build(export_id: int, *, site: str = "") -> str:
    """Build the zip of one export, store it, mail its link. Idempotent: an export that is no
    longer pending is skipped; a failure marks it failed (it then does not count for the day)."""
    with transaction.atomic():
        export = (DataExport.objects.select_for_update().select_related("user")
                  .filter(pk=export_id, state=DataExport.State.PENDING).first())
        if export is None:
            return "skipped"
        export.state = DataExport.State.RUNNING
        export.save(update_fields=["state"])
    user = export.user
    try:
        data = collect(user)
        data.pop("_dm_channel_ids")
        with tempfile.TemporaryFile() as tmp:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
                for name, arcname in _files(user):
                    try:
                        with default_storage.open(name, "rb") as fh, zf.open(arcname, "w") as out:
                            while chunk := fh.read(1 << 20):
                                out.write(chunk)
                    except FileNotFoundError:
                        log.warning("export %s: %s is missing from storage", export_id, name)
            size = tmp.tell()
            tmp.seek(0)
            export.file.save(f"smartc-{user.username}-{timezone.now():%Y%m%d}.zip", File(tmp), save=False)
    except Exception as exc:
        DataExport.objects.filter(pk=export_id).update(state=DataExport.State.FAILED,
                                                       failure_reason=str(exc)[:255], finished_at=timezone.now())
        raise
    now = timezone.now()
    export.state, export.size, export.finished_at = DataExport.State.READY, size, now
    export.expires_at = now + timedelta(days=settings.DATA_EXPORT_LINK_DAYS)
    export.save(update_fields=["state", "file", "size", "finished_at", "expires_at"])
    _mail_link(export, site)
    return "done"


def download_path(export: DataExport) -> str:
    from .services import export_token

    return reverse("privacy:export_download", args=[export_token(export)])


def _mail_link(export: DataExport, site: str) -> None:
    user = export.user
    if not user.email:
        return
    url = f"{(settings.SITE_URL or site).rstrip('/')}{download_path(export)}"
    with translation.override(export.language or settings.LANGUAGE_CODE):
        subject = gettext("Your SmaRTC data export is ready")
        body = gettext("Hello %(name)s,\n\nThe copy of your SmaRTC data you asked for is ready. Download it "
                       "(signed in as %(username)s) within %(days)s days:\n\n%(url)s\n\nIf you did not ask for it, "
                       "change your password.") % {"name": user.shown_name, "username": user.username,
                                                   "days": settings.DATA_EXPORT_LINK_DAYS, "url": url}
    send_mail(subject, body, None, [user.email])
