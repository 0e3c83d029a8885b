"""Attachments as members meet them: uploading (and every refusal), sending files with a message,
downloading them behind the channel's permissions, thumbnails and the purge of unsent uploads.
On the real PostgreSQL and a real media folder (one per test)."""
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from PIL import Image

from apps.chat import services
from apps.chat.models import Attachment, Message
from apps.guilds import services as guild_services
from apps.guilds.models import Role
from apps.guilds.permissions import Permission as P
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def general(guild):
    return guild.channels.get(name="general")


@pytest.fixture
def bo(guild):
    return add_member(guild, UserFactory(username="bo")).user


def png(size=(800, 600), color=(200, 40, 40), fmt="PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def upload(api, channel, name, data, content_type="application/octet-stream"):
    return api.post(f"/api/channels/{channel.id}/attachments",
                    {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")


def send(api, channel, content="", ids=()):
    return api.post(f"/api/channels/{channel.id}/messages", {"content": content, "attachment_ids": list(ids)},
                    format="json")


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- uploading -------------------------------------------------------------------------------------

def test_upload_image_is_checked_measured_and_stored(api_as, owner, general, media):
    r = upload(api_as(owner), general, "../../etc/Holiday photo?.png", png((800, 600)), "image/png")
    assert r.status_code == 201, r.json()
    d = r.json()
    assert (d["filename"], d["content_type"], d["width"], d["height"], d["state"]) == (
        "Holiday_photo.png", "image/png", 800, 600, "pending")
    assert d["url"] == f"/attachments/{d['id']}/Holiday_photo.png" and d["thumbnail_url"] is None
    att = Attachment.objects.get(pk=d["id"])
    assert (att.uploader, att.channel, att.message, att.size) == (owner, general, None, len(png((800, 600))))
    assert stored_files(media) == [media / att.file.name]


def test_type_comes_from_content_not_name(api_as, owner, general):
    """A real JPEG named .txt is an image; HTML named .txt is a plain download."""
    api = api_as(owner)
    jpeg = upload(api, general, "notes.txt", png(fmt="JPEG"), "text/plain").json()
    assert (jpeg["content_type"], jpeg["width"]) == ("image/jpeg", 800)
    page = upload(api, general, "page.html", b"<html><script>alert(1)</script></html>", "text/html").json()
    assert (page["content_type"], page["width"], page["state"]) == ("application/octet-stream", None, "ready")


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (9000, 5000)).save(out, "PNG")  # 45 megapixels of nothing: a few KB on disk
    return out.getvalue()


@pytest.mark.parametrize(("name", "data", "content_type", "status", "code"), [
    ("cat.png", b"this is not a picture at all", "image/png", 400, "invalid_image"),
    ("cat.bin", png()[:200], "application/octet-stream", 400, "invalid_image"),  # PNG bytes, cut short
    ("cat.png", io.BytesIO(b"BM" + b"\0" * 60).getvalue(), "image/png", 400, "invalid_image"),
    ("bomb.png", _bomb(), "image/png", 400, "image_too_large"),
    ("empty.txt", b"", "text/plain", 400, "validation_failed"),
])
def test_bad_uploads_are_refused_and_nothing_is_stored(api_as, owner, general, media, name, data, content_type,
                                                       status, code):
    r = upload(api_as(owner), general, name, data, content_type)
    assert r.status_code == status, r.json()
    err = r.json()["error"]
    assert err["code"] == code and err["message"] and "file" in err["fields"]
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_a_bomb_is_named_as_such_whatever_pillows_global_limit(api_as, owner, general, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30_000_000)  # Pillow now warns before our own check
    r = upload(api_as(owner), general, "bomb.png", _bomb(), "image/png")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "image_too_large")
    assert not Attachment.objects.exists()


@pytest.mark.parametrize("size", [5_000, 200_000])
def test_too_big_is_413_whether_the_length_was_declared_or_streamed(api_as, owner, general, media, settings, size):
    """200 KB is refused on its Content-Length before the body is parsed; 5 KB (inside the envelope
    allowance) by the upload handler that counts the bytes."""
    settings.ATTACHMENT_MAX_BYTES = 1_000
    r = upload(api_as(owner), general, "big.bin", b"x" * size)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "file_too_large"
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_upload_needs_attach_files_and_a_visible_channel(api_as, guild, owner, general, bo, media):
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.ATTACH_FILES))
    r = upload(api_as(bo), general, "a.txt", b"hello")
    assert r.status_code == 403
    assert (r.json()["error"]["code"], r.json()["error"]["permission"]) == ("missing_permission", "ATTACH_FILES")
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    assert upload(api_as(bo), general, "a.txt", b"hello").status_code == 404
    assert upload(api_as(UserFactory()), general, "a.txt", b"hello").status_code == 404  # not a member
    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_upload_takes_exactly_one_file(api_as, owner, general):
    api = api_as(owner)
    r = api.post(f"/api/channels/{general.id}/attachments", {}, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]
    two = {"file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")]}
    r = api.post(f"/api/channels/{general.id}/attachments", two, format="multipart")
    assert r.status_code == 400 and "file" in r.json()["error"]["fields"]
    assert not Attachment.objects.exists()


# --- sending -----------------------------------------------------------------------------------------

def test_send_files_without_text(api_as, owner, general):
    api = api_as(owner)
    image = upload(api, general, "red.png", png(), "image/png").json()
    doc = upload(api, general, "report.pdf", b"%PDF-1.4 not really", "application/pdf").json()
    r = send(api, general, "", [doc["id"], image["id"]])
    assert r.status_code == 201, r.json()
    m = r.json()
    assert m["content"] == ""
    assert [(a["id"], a["filename"]) for a in m["attachments"]] == [(image["id"], "red.png"), (doc["id"], "report.pdf")]
    msg = Message.objects.get(pk=m["id"])
    assert msg.attachment_count == 2
    assert set(Attachment.objects.values_list("message_id", flat=True)) == {msg.id}
    # History shows them too.
    page = api.get(f"/api/channels/{general.id}/messages").json()
    assert [a["filename"] for a in page[-1]["attachments"]] == ["red.png", "report.pdf"]


def test_an_empty_message_without_files_is_still_refused(api_as, owner, general):
    r = send(api_as(owner), general, "   ", [])
    assert r.status_code == 400 and "content" in r.json()["error"]["fields"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(channel=general, author=owner, content="")  # the database says no as well


def test_sending_someone_elses_used_or_foreign_attachments_is_refused(api_as, guild, owner, general, bo):
    mine = upload(api_as(owner), general, "a.txt", b"a").json()["id"]
    theirs = upload(api_as(bo), general, "b.txt", b"b").json()["id"]
    other_channel = guild_services.create_channel(actor=owner, guild=guild, name="other")
    elsewhere = upload(api_as(owner), other_channel, "c.txt", b"c").json()["id"]
    api = api_as(owner)
    for ids in ([theirs], [mine, theirs], [elsewhere], [mine, mine], [999_999]):
        r = send(api, general, "look", ids)
        assert r.status_code == 400, ids
        assert "attachment_ids" in r.json()["error"]["fields"]
    assert not Message.objects.exists()
    assert send(api, general, "first", [mine]).status_code == 201
    r = send(api, general, "again", [mine])  # already sent
    assert r.status_code == 400 and "attachment_ids" in r.json()["error"]["fields"]
    assert Message.objects.count() == 1


def test_at_most_ten_files_per_message(api_as, owner, general):
    api = api_as(owner)
    ids = [upload(api, general, f"{i}.txt", b"x").json()["id"] for i in range(11)]
    r = send(api, general, "", ids)
    assert r.status_code == 400
    assert "at most 10" in r.json()["error"]["fields"]["attachment_ids"][0]
    assert not Message.objects.exists()
    assert send(api, general, "", ids[:10]).status_code == 201


def test_sending_files_needs_attach_files(api_as, guild, owner, general, bo):
    att = upload(api_as(bo), general, "a.txt", b"a").json()["id"]
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.ATTACH_FILES))
    r = send(api_as(bo), general, "here", [att])
    assert r.status_code == 403 and r.json()["error"]["permission"] == "ATTACH_FILES"
    assert not Message.objects.exists()


# --- serving -----------------------------------------------------------------------------------------

def test_files_are_served_only_to_members_who_can_view_the_channel(api_as, guild, owner, general, bo):
    api = api_as(owner)
    image = upload(api, general, "red.png", png(), "image/png").json()
    page = upload(api, general, "page.html", b"<script>alert(1)</script>", "text/html").json()
    send(api, general, "files", [image["id"], page["id"]])

    r = browser(bo).get(image["url"])
    assert r.status_code == 200 and body(r) == png()
    assert r["Content-Type"] == "image/png" and r["Content-Disposition"].startswith("inline")
    r = browser(bo).get(page["url"])
    assert body(r) == b"<script>alert(1)</script>"
    assert r["Content-Type"] == "application/octet-stream"
    assert r["Content-Disposition"] == 'attachment; filename="page.html"'
    assert r["X-Content-Type-Options"] == "nosniff"

    assert browser(UserFactory()).get(image["url"]).status_code == 404  # not a member
    assert Client().get(image["url"]).status_code == 404  # not signed in
    everyone = Role.objects.get(guild=guild, is_default=True)
    guild_services.set_overwrite(actor=owner, channel=general, role=everyone, allow=0, deny=int(P.VIEW_CHANNEL))
    assert browser(bo).get(image["url"]).status_code == 404
    assert browser(bo).get(f"/attachments/{image['id'] + 1000}/x.png").status_code == 404


def test_an_unsent_upload_is_visible_to_its_uploader_only(api_as, owner, general, bo):
    att = upload(api_as(owner), general, "draft.txt", b"draft").json()
    assert body(browser(owner).get(att["url"])) == b"draft"
    assert browser(bo).get(att["url"]).status_code == 404


# --- thumbnails and the purge ------------------------------------------------------------------------

def test_thumbnail_is_made_once_and_served(api_as, owner, general, bo, django_capture_on_commit_callbacks):
    api = api_as(owner)
    att = upload(api, general, "wide.png", png((1600, 400)), "image/png").json()
    send(api, general, "", [att["id"]])
    with django_capture_on_commit_callbacks(execute=False) as published:
        assert services.process_attachment(att["id"]) == "ready"
    assert len(published) == 1  # the MESSAGE_UPDATE, after commit
    stored = Attachment.objects.get(pk=att["id"])
    first_thumb = stored.thumbnail.name
    assert services.process_attachment(att["id"]) == "ready"  # a second run changes nothing
    assert Attachment.objects.get(pk=att["id"]).thumbnail.name == first_thumb

    m = api.get(f"/api/channels/{general.id}/messages").json()[-1]
    thumb_url = m["attachments"][0]["thumbnail_url"]
    assert (thumb_url, m["attachments"][0]["state"]) == (f"/attachments/{att['id']}/thumbnail.webp", "ready")
    r = browser(bo).get(thumb_url)
    assert r["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(body(r))) as img:
        assert (img.format, img.size) == ("WEBP", (400, 100))
    assert browser(UserFactory()).get(thumb_url).status_code == 404


def test_exif_orientation_and_animation_first_frame(api_as, owner, general):
    api = api_as(owner)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    Image.new("RGB", (800, 400), (0, 0, 255)).save(out, "JPEG", exif=exif)
    photo = upload(api, general, "phone.jpg", out.getvalue(), "image/jpeg").json()
    frames = [Image.new("RGB", (300, 200), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    gif = upload(api, general, "anim.gif", out.getvalue(), "image/gif").json()
    for att in (photo, gif):
        assert services.process_attachment(att["id"]) == "ready"
    with Attachment.objects.get(pk=photo["id"]).thumbnail.open("rb") as fh, Image.open(fh) as img:
        assert img.size == (200, 400)  # portrait, as the camera meant it
    with Attachment.objects.get(pk=gif["id"]).thumbnail.open("rb") as fh, Image.open(fh) as img:
        assert img.size == (300, 200) and getattr(img, "n_frames", 1) == 1
        r, g, b = img.convert("RGB").getpixel((150, 100))
        assert r > 200 and g < 50  # the first (red) frame


def test_an_image_that_cannot_be_read_later_is_marked_failed(api_as, owner, general):
    att = upload(api_as(owner), general, "red.png", png(), "image/png").json()
    stored = Attachment.objects.get(pk=att["id"])
    Path(stored.file.path).write_bytes(b"garbage now")
    assert services.process_attachment(att["id"]) == "failed"
    stored.refresh_from_db()
    assert stored.failure_reason and not stored.thumbnail.name


def test_purge_deletes_unsent_old_uploads_and_files_of_deleted_messages(api_as, owner, general, media):
    api = api_as(owner)
    old = upload(api, general, "old.txt", b"old").json()["id"]
    fresh = upload(api, general, "fresh.txt", b"fresh").json()["id"]
    kept = upload(api, general, "kept.txt", b"kept").json()["id"]
    gone = upload(api, general, "gone.txt", b"gone").json()["id"]
    send(api, general, "kept", [kept])
    doomed = send(api, general, "doomed", [gone]).json()["id"]
    Attachment.objects.filter(pk__in=[old, kept]).update(created_at=timezone.now() - timedelta(hours=25))
    services.delete_message(actor=owner, message=Message.objects.get(pk=doomed))
    assert services.purge_stale_attachments() == 2
    assert set(Attachment.objects.values_list("id", flat=True)) == {fresh, kept}
    assert sorted(p.name for p in stored_files(media)) == ["fresh.txt", "kept.txt"]


def test_with_eager_celery_the_thumbnail_is_ready_when_the_upload_answers(api_as, owner, general,
                                                                          django_capture_on_commit_callbacks):
    """A manage.py command on embedded defaults has no worker: Celery runs the task inline once the
    upload commits."""
    from celery_app import app as celery_app

    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            att = upload(api_as(owner), general, "red.png", png((300, 600)), "image/png").json()
    finally:
        celery_app.conf.task_always_eager = False
    stored = Attachment.objects.get(pk=att["id"])
    assert stored.state == "ready" and stored.thumbnail.name.endswith("thumbnail.webp")
    m = send(api_as(owner), general, "", [att["id"]]).json()
    assert m["attachments"][0]["thumbnail_url"] == f"/attachments/{att['id']}/thumbnail.webp"
    with stored.thumbnail.open("rb") as fh, Image.open(fh) as img:
        assert img.size == (200, 400)


def test_a_files_only_message_may_be_edited_to_no_text(api_as, owner, general):
    api = api_as(owner)
    att = upload(api, general, "a.txt", b"a").json()["id"]
    mid = send(api, general, "caption", [att]).json()["id"]
    r = api.patch(f"/api/channels/{general.id}/messages/{mid}", {"content": ""}, format="json")
    assert r.status_code == 200 and r.json()["content"] == "" and len(r.json()["attachments"]) == 1


def test_uploads_past_the_upload_rate_get_429_and_store_nothing(api_as, owner, general, media, monkeypatch):
    from apps.core.api import UploadRateThrottle

    monkeypatch.setattr(UploadRateThrottle, "rate", "2/hour", raising=False)
    api = api_as(owner)
    assert [upload(api, general, f"{i}.png", png()).status_code for i in range(2)] == [201, 201]
    r = upload(api, general, "2.png", png())
    assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
    assert int(r["Retry-After"]) > 0
    assert len(stored_files(media)) == 2 and Attachment.objects.count() == 2
    # Another member has their own allowance; reading is not an upload.
    other = add_member(general.guild, UserFactory(username="cy")).user
    assert upload(api_as(other), general, "c.png", png()).status_code == 201
    assert api_as(owner).get(f"/api/channels/{general.id}/messages").status_code == 200


def test_files_of_a_held_or_removed_message_go_with_it(api_as, owner, general, bo, media):
    from tests.factories import make_role

    cy = add_member(general.guild, UserFactory(username="cy")).user
    moderator = add_member(general.guild, UserFactory(username="mo"),
                           roles=[make_role(general.guild, permissions=P.MANAGE_MESSAGES)]).user
    att = upload(api_as(bo), general, "p.png", png()).json()
    msg_id = send(api_as(bo), general, "look", [att["id"]]).json()["id"]
    assert browser(cy).get(att["url"]).status_code == 200
    message = Message.objects.get(pk=msg_id)
    services.set_visibility(message=message, visibility=Message.Visibility.HELD)
    assert browser(cy).get(att["url"]).status_code == 404  # held: others get nothing
    assert browser(bo).get(att["url"]).status_code == 200  # its author still sees it, held
    assert browser(moderator).get(att["url"]).status_code == 200  # and so do moderators
    services.set_visibility(message=message, visibility=Message.Visibility.REMOVED)
    for user in (bo, moderator, cy):
        assert browser(user).get(att["url"]).status_code == 404
