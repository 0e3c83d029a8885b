"""A send is answered once and stored once: a client that retries with the same nonce (its answer
was lost, the server failed after the commit) gets the message it already sent, never a second one;
and a write that committed is never answered with an error by the work queued after it."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from apps.chat import services
from apps.chat.models import Message
from apps.guilds.models import Channel
from celery_app import app as celery_app
from tests.integration.test_gateway import db, gateway, run_async

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def general(guild):
    return Channel.objects.get(guild=guild, name="general")


def post(api, channel, content: str, nonce=None):
    body = {"content": content} if nonce is None else {"content": content, "nonce": nonce}
    return api.post(f"/api/channels/{channel.id}/messages", body, format="json")


def test_a_retry_with_the_same_nonce_returns_the_message_already_sent(api_as, alice, general):
    api = api_as(alice)
    first = post(api, general, "hello", "n-1")
    assert first.status_code == 201
    again = post(api, general, "hello", "n-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["nonce"] == "n-1"
    assert again.json()["content"] == "hello" and again.json()["author"]["id"] == alice.id
    assert list(Message.objects.values_list("content", flat=True)) == ["hello"]


def test_a_retry_is_not_refused_by_slow_mode_the_first_send_started(api_as, owner, alice, general):
    Channel.objects.filter(pk=general.pk).update(slowmode_seconds=60)
    api = api_as(alice)
    first = post(api, general, "hello", "n-1").json()
    assert post(api, general, "hello", "n-1").json()["id"] == first["id"]
    assert post(api, general, "another", "n-2").status_code == 429  # a new message still waits its turn


def test_different_nonces_or_none_are_different_messages(api_as, alice, general):
    api = api_as(alice)
    assert [post(api, general, "same text", n).status_code for n in ("n-1", "n-2", None, None)] == [201] * 4
    assert Message.objects.filter(content="same text").count() == 4


def test_a_nonce_is_the_authors_own_and_lives_a_few_minutes(api_as, owner, alice, general):
    mine = post(api_as(alice), general, "mine", "shared").json()
    theirs = post(api_as(owner), general, "theirs", "shared")
    assert theirs.status_code == 201 and theirs.json()["id"] != mine["id"]
    # Long after, the same nonce is a new message (a client may reuse its counters).
    Message.objects.filter(pk=mine["id"]).update(created_at=Message.objects.get(pk=mine["id"]).created_at
                                                 - services.NONCE_WINDOW - timedelta(seconds=1))
    later = post(api_as(alice), general, "later", "shared")
    assert later.status_code == 201 and later.json()["id"] != mine["id"]
    assert Message.objects.filter(author=alice).count() == 2


def test_a_nonce_over_64_characters_is_refused(api_as, alice, general):
    r = post(api_as(alice), general, "hello", "n" * 65)
    assert r.status_code == 400 and "nonce" in r.json()["error"]["fields"]
    assert not Message.objects.exists()


def test_copies_of_one_send_racing_each_other_store_one_message(alice, general):
    copies = 6
    start = threading.Barrier(copies)
    sent, errors = [], []

    def send():
        try:
            start.wait()
            sent.append(services.send_message(author=alice, channel_id=general.id, content="once", nonce="race"))
        except Exception as exc:  # pragma: no cover - shown by the assertion
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert Message.objects.filter(content="once").count() == 1
    assert {m.id for m in sent} == {Message.objects.get(content="once").id}
    assert sum(not m.replayed for m in sent) == 1


@run_async
async def test_a_gateway_retry_gets_the_first_message_back_and_nobody_gets_a_second(guild, alice, owner, general):
    async with gateway(alice) as a, gateway(owner) as o:
        await a.send(6, {"channel_id": general.id, "content": "over the socket", "nonce": "g-1"})
        first = await a.event("MESSAGE_CREATE")
        assert (await o.event("MESSAGE_CREATE"))["id"] == first["id"]
    # The answer was lost with the connection: the client sends it again on its next one.
    async with gateway(alice) as a, gateway(owner) as o:
        await a.send(6, {"channel_id": general.id, "content": "over the socket", "nonce": "g-1"})
        again = await a.event("MESSAGE_CREATE")
        assert (again["id"], again["nonce"], again["channel_id"], again["guild_id"]) == (
            first["id"], "g-1", general.id, guild.id)
        assert again["content"] == "over the socket" and again["author"]["id"] == alice.id
        await a.send(6, {"channel_id": general.id, "content": "fence", "nonce": "g-2"})
        assert (await o.event("MESSAGE_CREATE"))["content"] == "fence"  # and not a second "over the socket"
    assert await db(Message.objects.filter(content="over the socket").count)() == 1


def test_a_committed_send_answers_201_when_the_work_queued_after_it_fails(api_as, alice, general, settings):
    """Under `make run` the scoring queued after commit ran inside the request and failed with
    "database is locked": the message was stored and delivered, yet the sender got a 500 and retried."""
    settings.MODERATION_SCORER = "tests.scorers.LockedDatabaseScorer"
    celery_app.conf.task_always_eager = True  # the work runs inline, in the commit hook, as it did
    try:
        r = post(api_as(alice), general, "stored and delivered", "h-1")
    finally:
        celery_app.conf.task_always_eager = False
    assert r.status_code == 201
    assert Message.objects.filter(content="stored and delivered").count() == 1
