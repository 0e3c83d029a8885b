"""Link previews and embed images for real: the test process queues on Redis, a Celery worker
process on the `media` queue fetches from a local web server (allowed by LINK_PREVIEW_ALLOW_HOSTS,
as nothing else on loopback is), and live gateway sockets hear the message change."""
from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.chat import webhooks
from apps.chat.models import Message
from apps.guilds import services as guild_services
from apps.guilds.permissions import Permission as P
from celery_app import app as celery_app
from tests import servers
from tests.factories import UserFactory, add_member
from tests.integration.test_gateway import db, gateway, run_async, text_channel
from tests.pages import og_page, png_bytes, serving

pytestmark = pytest.mark.django_db(transaction=True)

ROUTES = {
    "/og": ("page", og_page("Night Drive", description="A synthwave mix")),
    "/video": ("page", og_page("Live set", extra='<meta property="og:type" content="video.other">')),
    "/hidden": ("page", og_page("Hidden")),
    "/cover.png": ("image", png_bytes()),
    "/logo.png": ("image", png_bytes((64, 64), (20, 20, 200))),
    "/to-metadata": ("redirect", "http://169.254.169.254/latest/meta-data/"),
}


@pytest.fixture
def people(guild):
    alice = add_member(guild, UserFactory(username="alice")).user
    bob = add_member(guild, UserFactory(username="bob")).user
    carol = add_member(guild, UserFactory(username="carol"))
    general = text_channel(guild)
    guild_services.set_overwrite(actor=guild.owner, channel=general, member=carol, allow=0, deny=int(P.EMBED_LINKS))
    return alice, bob, carol.user


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@run_async
async def test_previews_and_embed_images_appear_live_and_the_author_can_remove_them(guild, people):
    alice, bob, carol = people
    general = await db(text_channel)(guild)
    assert not celery_app.conf.task_always_eager
    await db(celery_app.control.purge)()
    hook, token = await db(webhooks.create_webhook)(actor=guild.owner, channel_id=general.id, name="CI")

    with serving(ROUTES) as pages, servers.celery_worker(queues="media",
                                                         env={"LINK_PREVIEW_ALLOW_HOSTS": "127.0.0.1"}):
        base = pages.base
        async with gateway(bob) as b:
            # Carol may not embed links: her message is never unfurled.
            await db(api(carol).post)(f"/api/channels/{general.id}/messages", {"content": f"mine {base}/og"},
                                      format="json")
            assert (await b.event("MESSAGE_CREATE"))["embeds"] == []
            text = (f"look {base}/og and <{base}/hidden>, {base}/video, {base}/to-metadata, http://10.0.0.1/x "
                    f"and {base}/tracks/5")
            r = await db(api(alice).post)(f"/api/channels/{general.id}/messages", {"content": text}, format="json")
            assert r.status_code == 201 and r.json()["embeds"] == []
            created = await b.event("MESSAGE_CREATE")
            updated = await b.event("MESSAGE_UPDATE", timeout=30)
            assert updated["id"] == created["id"]
            first, second = updated["embeds"]
            assert (first["type"], first["title"], first["description"], first["provider"]) == (
                "link", "Night Drive", "A synthwave mix", {"name": "Test Pages"})
            assert first["thumbnail"]["url"] == f"{base}/cover.png"
            assert first["thumbnail"]["proxy_url"].startswith("/embed-media/")
            assert (second["type"], second["title"]) == ("video", "Live set")
            # <url> is not previewed; the metadata redirect, the private address and the track link are not either.
            assert "/hidden" not in pages.paths and "/tracks/5" not in pages.paths

            r = await db(Client().get)(first["thumbnail"]["proxy_url"])
            assert r.status_code == 200 and r["Content-Type"] == "image/webp"

            suppress = f"/api/channels/{general.id}/messages/{created['id']}/suppress-embeds"
            r = await db(api(alice).post)(suppress, {"suppress": True}, format="json")
            assert r.status_code == 200 and r.json()["embeds"] == [] and r.json()["suppress_embeds"] is True
            assert (await b.event("MESSAGE_UPDATE"))["embeds"] == []
            assert (await db(api(bob).post)(suppress, {"suppress": False}, format="json")).status_code == 403

            # A webhook's embed and avatar: shown from their copies once the worker made them.
            body = {"content": "Deployed", "avatar_url": f"{base}/logo.png",
                    "embeds": [{"title": "Build #12", "color": 0x2ECC71, "image": {"url": f"{base}/cover.png"}}]}
            r = await db(APIClient().post)(f"/api/webhooks/{hook.id}/{token}", body, format="json")
            assert r.status_code == 204
            created = await b.event("MESSAGE_CREATE")
            assert created["embeds"][0]["image"]["proxy_url"] is None and created["author"]["avatar"] is None
            updated = await b.event("MESSAGE_UPDATE", timeout=30)
            assert updated["embeds"][0]["image"]["proxy_url"].startswith("/embed-media/")
            assert updated["author"]["avatar"].startswith("/embed-media/") and updated["author"]["bot"] is True

    carols = await db(Message.objects.get)(author=carol)
    assert carols.previews == [] and carols.proxied == {}
