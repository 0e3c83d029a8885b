"""Data exports: asked on the "Your data" page, built by a real Celery worker into a zip in S3 (moto),
announced by email through a real SMTP server, downloaded by a signed link that only its owner can
use, for DATA_EXPORT_LINK_DAYS. One at a time and one a day. The zip holds the member's data and
files, and of other people's messages only those of the DMs the member is in."""
import email
import io
import json
import re
import time
import zipfile
from contextlib import contextmanager
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from apps.chat import services as chat
from apps.chat.models import Attachment
from apps.dms import services as dms
from apps.guilds.models import Channel
from apps.moderation.models import Report
from apps.privacy import services, tasks
from apps.privacy.models import DataExport
from apps.tracks import services as tracks
from celery_app.app import app as celery_app
from tests import servers
from tests.factories import PASSWORD, make_track

pytestmark = pytest.mark.django_db(transaction=True)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@contextmanager
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=servers.free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def signed_in(user, language="en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    assert client.login(username=user.username, password=PASSWORD)
    return client


def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.fixture
def life(guild, owner, alice, bob, carol, s3):
    channel = Channel.objects.get(guild=guild, name="general")
    alice.avatar = default_storage.save(f"avatars/{alice.id}/me.png", ContentFile(b"alice-face"))
    alice.bio = "I play the theremin"
    alice.save()
    said = chat.send_message(author=alice, channel_id=channel.id, content="alice in the guild")
    bobs = chat.send_message(author=bob, channel_id=channel.id, content="bob in the guild")
    chat.add_reaction(actor=alice, message=bobs, emoji="🎉")
    att = Attachment.objects.create(channel=channel, uploader=alice, filename="plan.txt", content_type="text/plain",
                                    size=9, sent_at=timezone.now(),
                                    file=default_storage.save(f"attachments/{channel.id}/k/plan.txt",
                                                              ContentFile(b"the plan!")))
    dm, _ = dms.open_dm(user=alice, recipient_id=bob.id)
    chat.send_message(author=alice, channel_id=dm.id, content="hi bob, alice here")
    chat.send_message(author=bob, channel_id=dm.id, content="hi alice, bob here")
    others, _ = dms.open_dm(user=bob, recipient_id=carol.id)
    chat.send_message(author=carol, channel_id=others.id, content="carol whispers to bob only")
    track = make_track(guild, alice, title="Theremin nights", tags=["ambient"])
    track.original = default_storage.save(f"tracks/{track.key.hex}/original.mp3", ContentFile(b"ID3 audio"))
    track.save()
    bobs_track = make_track(guild, bob, title="Bob's beat")
    tracks.like_track(user=alice, track_id=bobs_track.id)
    tracks.follow_user(follower=alice, user_id=bob.id)
    playlist = tracks.create_playlist(owner=alice, title="Night mix")
    tracks.add_to_playlist(actor=alice, playlist_id=playlist.id, track_id=bobs_track.id)
    Report.objects.create(guild=guild, reporter=alice, kind="message", target=f"message:{bobs.id}", message=bobs,
                          reported_user=bob, content=bobs.content, category="spam", details="bob spams")
    return {"said": said, "track": track, "dm": dm, "others": others, "attachment": att}


def test_an_export_is_built_mailed_and_downloaded_by_its_owner_only(guild, alice, bob, carol, s3, life):
    celery_app.control.purge()
    client = signed_in(alice, "fr")
    response = client.post("/accounts/data/export", follow=True)
    assert "Ton export est en préparation" in response.content.decode()
    # While it runs, a second one is refused and nothing is queued.
    response = client.post("/accounts/data/export", follow=True)
    assert "Ton export est en préparation" in response.content.decode()
    assert DataExport.objects.filter(user=alice).count() == 1

    with smtp_server() as (smtp, inbox), servers.celery_worker(
            queues="default", env={**s3.env(), "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                   "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(smtp.port)}):
        wait_for(lambda: DataExport.objects.get(user=alice).state == "ready" and inbox.messages)
    export = DataExport.objects.get(user=alice)
    assert export.file.name.startswith(f"exports/{alice.id}/") and export.file.name in s3.keys("exports/")
    assert timedelta(days=6, hours=23) < export.expires_at - timezone.now() <= timedelta(days=7)

    [mail] = inbox.messages
    assert mail["To"] == alice.email
    assert mail["Subject"] == "Ton export de données SmaRTC est prêt"
    body = mail.get_content()
    link = re.search(r"http://\S+(/accounts/data/exports/\S+)", body).group(1)
    assert link in client.get("/accounts/data").content.decode()  # the page shows the same link

    response = client.get(link)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert (data["profile"]["username"], data["profile"]["email"], data["profile"]["bio"]) == (
        "alice", alice.email, "I play the theremin")
    assert [m["content"] for m in data["messages"]] == ["alice in the guild"]
    assert [(d["channel_id"], [m["content"] for m in d["messages"]]) for d in data["direct_messages"]] == [
        (life["dm"].id, ["hi bob, alice here", "hi alice, bob here"])]
    assert [r["emoji"] for r in data["reactions"]] == ["🎉"]
    assert [(t["title"], t["tags"]) for t in data["tracks"]] == [("Theremin nights", ["ambient"])]
    assert [p["title"] for p in data["playlists"]] == ["Night mix"]
    assert data["following"] == ["bob"] and len(data["likes"]) == 1
    assert [r["details"] for r in data["reports"]] == ["bob spams"]
    text = archive.read("data.json").decode()
    assert "carol whispers" not in text and "bob in the guild" not in text
    names = archive.namelist()
    assert archive.read(next(n for n in names if n.startswith("files/avatar/"))) == b"alice-face"
    assert archive.read(f"files/attachments/{life['attachment'].id}-plan.txt") == b"the plan!"
    assert archive.read(next(n for n in names if n.startswith(f"files/tracks/{life['track'].id}/"))) == b"ID3 audio"

    # Somebody else's session, or a tampered link: refused.
    assert signed_in(bob).get(link).status_code == 404
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 404 and "n&#x27;est pas valide" in response.content.decode()

    # One a day.
    response = client.post("/accounts/data/export", follow=True)
    assert "un export par jour" in response.content.decode()
    assert DataExport.objects.filter(user=alice).count() == 1

    # After seven days the link says so, and the beat job deletes the file.
    assert tasks.purge_expired_exports() == 0
    assert services.purge_expired_exports(now=timezone.now() + timedelta(days=7, seconds=1)) == 1
    assert s3.keys("exports/") == []
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(link)
    assert response.status_code == 410 and "a expiré" in response.content.decode()


def test_a_link_says_when_it_stops_working_and_cannot_be_stretched(alice, s3):
    export = DataExport.objects.create(user=alice, state="ready", expires_at=timezone.now() + timedelta(days=7))
    export.file.save("x.zip", ContentFile(b"zip"))
    token = services.export_token(export)
    assert services.export_from_link(token, user=alice) == export
    payload, signature = token.rsplit(":", 1)
    stretched = signing.Signer(salt="other").sign_object({"e": export.id, "k": export.key.hex, "x": 2**40})
    for bad in (f"{payload}x:{signature}", stretched, "", "garbage"):
        with pytest.raises(services.NotFound) as exc:
            services.export_from_link(bad, user=alice)
        assert exc.value.code == "export_link_invalid"
    # A link signed with an end already past is expired, whatever the row says.
    export.expires_at = timezone.now() - timedelta(seconds=5)
    old = services.export_token(export)
    with pytest.raises(services.NotFound) as exc:
        services.export_from_link(old, user=alice)
    assert exc.value.code == "export_link_expired"


def test_a_failed_export_does_not_count_for_the_day(alice, s3):
    DataExport.objects.create(user=alice, state="failed", failure_reason="storage down")
    assert services.request_export(user=alice).state == "pending"
