"""Avatars for real: the profile form stores the upload in S3 (moto's server over HTTP), a Celery
worker on the `media` queue makes square WebP thumbnails beside it, and chat shows the small one.
Replacing an avatar removes the old files."""
from __future__ import annotations

import io
import time
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.accounts import services
from apps.accounts.models import User
from apps.chat.payloads import message_payload
from apps.chat.services import send_message
from tests import servers
from tests.factories import add_member

pytestmark = pytest.mark.django_db(transaction=True)


def png(width: int, height: int, color) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return SimpleUploadedFile("me.png", out.getvalue(), content_type="image/png")


def thumbs_of(user_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while not (thumbs := User.objects.get(pk=user_id).avatar_thumbs):
        assert time.monotonic() < deadline, "no avatar thumbnails were made"
        time.sleep(0.2)
    return thumbs


def open_url(url: str) -> Image.Image:
    with urllib.request.urlopen(url, timeout=10) as r:
        return Image.open(io.BytesIO(r.read()))


def test_an_avatar_gets_square_webp_thumbnails_on_a_real_worker(s3, client, guild, user):
    client.force_login(user)
    with servers.celery_worker(queues="media", env=s3.env()):
        r = client.post("/accounts/profile", {"display_name": "Neo", "bio": "", "avatar": png(640, 400, "red")})
        assert r.status_code == 302
        thumbs = thumbs_of(user.id)
        user.refresh_from_db()
        assert sorted(thumbs, key=int) == ["32", "96", "256"]
        for size, name in thumbs.items():
            img = open_url(s3.client().generate_presigned_url(
                "get_object", Params={"Bucket": s3.bucket, "Key": name}))
            assert (img.format, img.size) == ("WEBP", (int(size), int(size)))
            assert img.convert("RGB").getpixel((int(size) // 2, int(size) // 2))[0] > 200  # still red

        # Chat shows the 96 px thumbnail, through a signed URL that S3 serves.
        add_member(guild, user)
        channel = guild.channels.filter(type="text").first()
        avatar = message_payload(send_message(author=user, channel_id=channel.id, content="hello"))["author"]["avatar"]
        assert thumbs["96"] in avatar and open_url(avatar).size == (96, 96)

        old = {user.avatar.name, *thumbs.values()}
        client.post("/accounts/profile", {"display_name": "Neo", "bio": "", "avatar": png(300, 300, "blue")})
        user.refresh_from_db()
        assert user.avatar.name not in old and user.avatar_thumbs == {}
        # Until its thumbnails exist, the new original is shown; the old files are gone.
        assert user.avatar_url().startswith(s3.endpoint) and user.avatar.name in user.avatar_url()
        new_thumbs = thumbs_of(user.id)
    assert set(s3.keys("avatars/")) == {user.avatar.name, *new_thumbs.values()}
    assert not old & set(s3.keys("avatars/"))


def test_making_thumbnails_twice_changes_nothing(s3, user):
    services.update_profile(user, display_name="", bio="", avatar=png(100, 100, "green"))
    assert services.make_avatar_thumbnails(user.id) == "done"
    first = User.objects.get(pk=user.id).avatar_thumbs
    assert services.make_avatar_thumbnails(user.id) == "skipped"  # a redelivered task
    assert User.objects.get(pk=user.id).avatar_thumbs == first
    assert len(s3.keys("avatars/")) == 4
