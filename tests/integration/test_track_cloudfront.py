"""With CloudFront in front of the media bucket, a member's player is sent to a CloudFront URL signed
with the distribution's RSA key (a canned policy that expires in minutes), never to a public object.

CloudFront itself does not run here: the signature is checked the way CloudFront checks it, with the
public half of the key pair, over the canned policy rebuilt from the URL."""
from __future__ import annotations

import base64
import io
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from apps.tracks import pipeline, services
from apps.tracks.models import Track
from apps.tracks.views import SIGNED_URL_SECONDS
from tests import audio
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db(transaction=True)
CDN = "media.cdn.smartc.test"
KEY_ID = "K2SMARTCTEST"


@pytest.fixture(scope="module")
def key_pair():
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    return pem, private.public_key()


@pytest.fixture
def ready_track(s3, guild, tmp_path) -> Track:
    """A track processed onto the S3 endpoint, as the pipeline leaves it."""
    alice = add_member(guild, UserFactory(username="alice")).user
    data = audio.track_file(tmp_path / "s.wav", 2.0).read_bytes()
    cover = io.BytesIO()
    Image.new("RGB", (640, 640), "#5865f2").save(cover, "PNG")
    track = services.upload_track(uploader=alice, guild_id=guild.id, upload=SimpleUploadedFile("s.wav", data),
                                  title="Night drive", cover=SimpleUploadedFile("c.png", cover.getvalue()))
    for step in (pipeline.probe_track, pipeline.make_waveform, pipeline.make_renditions, pipeline.make_artwork):
        step(track.id)
    track.refresh_from_db()
    assert track.state == "ready"
    return track


@pytest.fixture
def cloudfront(s3, settings, key_pair):
    options = settings.STORAGES["default"]["OPTIONS"]
    settings.STORAGES = {**settings.STORAGES, "default": {**settings.STORAGES["default"], "OPTIONS": {
        **options, "custom_domain": CDN, "url_protocol": "https:", "cloudfront_key_id": KEY_ID,
        "cloudfront_key": key_pair[0]}}}
    return key_pair[1]


def _cloudfront_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def verify_canned_policy(url: str, public_key) -> int:
    """Checks a CloudFront canned-policy signature as CloudFront does; returns its expiry."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    expires, signature, key_id = query.pop("Expires")[0], query.pop("Signature")[0], query.pop("Key-Pair-Id")[0]
    assert key_id == KEY_ID
    resource = url.split("Expires=")[0].rstrip("&?")
    policy = json.dumps({"Statement": [{"Resource": resource, "Condition": {
        "DateLessThan": {"AWS:EpochTime": int(expires)}}}]}, separators=(",", ":"))
    public_key.verify(_cloudfront_b64decode(signature), policy.encode(), padding.PKCS1v15(), hashes.SHA1())
    return int(expires)


def test_the_stream_redirects_to_a_signed_cloudfront_url(client, ready_track, cloudfront):
    client.force_login(ready_track.owner)
    r = client.get(f"/tracks/{ready_track.id}/stream.m4a")
    assert r.status_code == 302 and r["Cache-Control"] == "private, no-store"
    url = r["Location"]
    assert url.startswith(f"https://{CDN}/{ready_track.stream}")
    expires = verify_canned_policy(url, cloudfront)
    assert 0 < expires - time.time() <= SIGNED_URL_SECONDS + 5


def test_a_tampered_cloudfront_url_fails_the_check(client, ready_track, cloudfront):
    from cryptography.exceptions import InvalidSignature

    client.force_login(ready_track.owner)
    url = client.get(f"/tracks/{ready_track.id}/cover-300.webp")["Location"]
    assert url.startswith(f"https://{CDN}/")
    verify_canned_policy(url, cloudfront)
    other = url.replace("cover-300", "cover-600")
    with pytest.raises(InvalidSignature):
        verify_canned_policy(other, cloudfront)


def test_hls_segments_are_signed_and_playlists_stay_here(client, ready_track, cloudfront):
    client.force_login(ready_track.owner)
    r = client.get(f"/tracks/{ready_track.id}/hls/master.m3u8")
    assert r.status_code == 200 and b"#EXTM3U" in r.content
    variant = next(line for line in r.content.decode().splitlines() if line.endswith(".m3u8"))
    playlist = client.get(f"/tracks/{ready_track.id}/hls/{variant}").content.decode()
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    folder = variant.rsplit("/", 1)[0]
    r = client.get(f"/tracks/{ready_track.id}/hls/{folder}/{segment}")
    assert r.status_code == 302 and r["Location"].startswith(f"https://{CDN}/")
    verify_canned_policy(r["Location"], cloudfront)


def test_no_signed_url_for_someone_outside_the_guild(client, ready_track, cloudfront):
    client.force_login(UserFactory(username="outsider"))
    for path in ("stream.m4a", "cover-300.webp", "hls/master.m3u8"):
        r = client.get(f"/tracks/{ready_track.id}/{path}")
        assert r.status_code == 404 and "Location" not in r
