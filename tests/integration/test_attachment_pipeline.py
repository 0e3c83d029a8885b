"""The media pipeline for real: the test process enqueues on Redis (not eagerly), a Celery worker
process on the `media` queue makes the thumbnail on the test database, and a live gateway socket
hears the message change."""
from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from apps.chat.models import Attachment
from celery_app import app as celery_app
from tests import servers
from tests.factories import UserFactory, add_member
from tests.integration.test_gateway import db, gateway, run_async, text_channel

pytestmark = pytest.mark.django_db(transaction=True)


def png(size) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def people(guild):
    alice = add_member(guild, UserFactory(username="alice")).user
    bob = add_member(guild, UserFactory(username="bob")).user
    return alice, bob


@run_async
async def test_worker_thumbnails_a_sent_image_and_sockets_see_it(guild, people):
    alice, bob = people
    general = await db(text_channel)(guild)
    assert not celery_app.conf.task_always_eager  # the test process enqueues on Redis, as production does
    await db(celery_app.control.purge)()  # tasks left on the queue by earlier tests

    def upload():
        api = APIClient()
        api.force_authenticate(alice)
        return api.post(f"/api/channels/{general.id}/attachments",
                        {"file": SimpleUploadedFile("sky.png", png((1200, 900)), content_type="image/png")},
                        format="multipart")

    r = await db(upload)()
    assert r.status_code == 201, r.json()
    att_id = r.json()["id"]
    async with gateway(alice) as a, gateway(bob) as b:
        # Sent over the socket with no worker running yet: the image is still waiting for its thumbnail.
        await a.send(6, {"channel_id": general.id, "content": "", "nonce": "pic-1", "attachment_ids": [att_id]})
        created = await b.event("MESSAGE_CREATE")
        assert created["content"] == ""
        [shown] = created["attachments"]
        assert (shown["id"], shown["filename"], shown["width"], shown["height"]) == (att_id, "sky.png", 1200, 900)
        assert shown["thumbnail_url"] is None and shown["state"] == "pending"
        assert (await a.event("MESSAGE_CREATE"))["nonce"] == "pic-1"

        with servers.celery_worker(queues="media"):
            f = await b.frame(timeout=30)  # the worker picks the queued task up
            assert (f["op"], f["t"]) == (0, "MESSAGE_UPDATE"), f
            [shown] = f["d"]["attachments"]
            assert f["d"]["id"] == created["id"]
            assert (shown["state"], shown["thumbnail_url"]) == ("ready", f"/attachments/{att_id}/thumbnail.webp")
            assert (await a.event("MESSAGE_UPDATE"))["attachments"][0]["state"] == "ready"

    stored = await db(Attachment.objects.get)(pk=att_id)
    assert stored.thumbnail_size and stored.message_id == created["id"]

    def fetch(url):
        client = Client()
        client.force_login(bob)
        r = client.get(url)
        return r, b"".join(r.streaming_content)

    r, data = await db(fetch)(shown["thumbnail_url"])
    assert r.status_code == 200 and r["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP"
        assert img.width <= 400 and img.height <= 400
        assert img.size == (400, 300)  # 4:3 like the original
    assert len(data) == stored.thumbnail_size


@run_async
async def test_gateway_refuses_bad_attachment_ids(guild, people):
    alice, bob = people
    general = await db(text_channel)(guild)

    def upload(user):
        api = APIClient()
        api.force_authenticate(user)
        return api.post(f"/api/channels/{general.id}/attachments",
                        {"file": SimpleUploadedFile("b.txt", b"bob's")}, format="multipart").json()["id"]

    bobs = await db(upload)(bob)
    async with gateway(alice) as a:
        await a.send(6, {"channel_id": general.id, "content": "", "attachment_ids": "1,2"})
        err = await a.error()
        assert (err["code"], err["field"]) == ("invalid_payload", "attachment_ids")
        await a.send(6, {"channel_id": general.id, "content": "", "nonce": "n-2", "attachment_ids": [bobs]})
        err = await a.error()
        assert (err["code"], err["ref"]) == ("validation_failed", "n-2") and "attachment_ids" in err["fields"]
        await a.send(6, {"channel_id": general.id, "content": "", "nonce": "n-3"})
        err = await a.error()
        assert (err["code"], err["ref"]) == ("validation_failed", "n-3") and "content" in err["fields"]
        await a.still_open()
