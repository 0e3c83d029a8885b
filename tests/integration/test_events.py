"""Services publish their events through the gateway hub's Redis channels, only after commit."""
import json
import time

import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from apps.core import bus
from apps.core.events import guild_group, user_group
from apps.guilds import events, invites, sanctions, services
from tests.factories import UserFactory, add_member

pytestmark = pytest.mark.django_db


class Listener:
    """A subscriber to some groups' hub channels on the real Redis, like a gateway node."""

    def __init__(self, *groups):
        self.client = redis.Redis.from_url(settings.REDIS_URL)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(*[bus.PREFIX + g for g in groups])

    def receive(self, timeout=2.0) -> dict:
        """The next event, as {"t", "d"}."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.pubsub.get_message(timeout=left)
            if message and message["type"] == "message":
                t, _published, text = message["data"].decode().split(" ", 2)
                return {"t": t, "d": json.loads(text)}
        raise TimeoutError

    def close(self):
        self.pubsub.close()
        self.client.close()

    def nothing(self, timeout=0.3) -> bool:
        try:
            self.receive(timeout)
        except TimeoutError:
            return True
        return False


@pytest.fixture
def listen():
    made = []

    def make(*groups):
        made.append(Listener(*groups))
        return made[-1]

    yield make
    for listener in made:
        listener.close()


def test_layer_is_redis_with_a_pool_that_waits_instead_of_failing():
    import redis.asyncio
    from channels_redis.core import RedisChannelLayer

    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    pool = layer.create_pool(0)
    assert isinstance(pool, redis.asyncio.BlockingConnectionPool)
    assert pool.max_connections == 200


def test_channel_create_reaches_the_guild_group_after_commit(guild, owner, django_capture_on_commit_callbacks, listen):
    listener = listen(guild_group(guild.id))
    with django_capture_on_commit_callbacks(execute=True):
        ch = services.create_channel(actor=owner, guild=guild, name="news")
        assert listener.nothing()  # not before commit
    msg = listener.receive()
    assert msg["t"] == events.CHANNEL_CREATE
    assert msg["d"]["id"] == ch.id and msg["d"]["name"] == "news"


def test_rolled_back_write_publishes_nothing(guild, owner, django_capture_on_commit_callbacks, listen):
    listener = listen(guild_group(guild.id))
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                services.create_channel(actor=owner, guild=guild, name="doomed")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert listener.nothing()


def test_kick_tells_the_guild_and_the_kicked_user(guild, owner, django_capture_on_commit_callbacks, listen):
    victim = add_member(guild)
    to_guild, to_user = listen(guild_group(guild.id)), listen(user_group(victim.user_id))
    with django_capture_on_commit_callbacks(execute=True):
        sanctions.kick_member(actor=owner, member=victim)
    assert to_guild.receive()["t"] == events.MEMBER_REMOVE
    assert to_user.receive() == {"t": events.GUILD_DELETE, "d": {"id": guild.id}}


def test_join_and_role_change_events(guild, owner, django_capture_on_commit_callbacks, listen):
    listener = listen(guild_group(guild.id))
    newcomer = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invite = invites.create_invite(actor=owner, guild=guild)
        invites.join_by_invite(user=newcomer, code=invite.code)
    kinds = [listener.receive()["t"], listener.receive()["t"]]
    assert kinds == [events.INVITE_CREATE, events.MEMBER_ADD]
    with django_capture_on_commit_callbacks(execute=True):
        role = services.create_role(actor=owner, guild=guild, name="Crew")
        services.update_role(actor=owner, role=role, permissions=0)
    kinds = [listener.receive()["t"] for _ in range(3)]
    assert kinds == [events.ROLE_CREATE, events.ROLE_UPDATE, events.PERMISSIONS_CHANGED]


def test_sites_on_databases_of_one_redis_do_not_hear_each_others_events(settings):
    """Redis pub/sub ignores the database: the channel names carry it when it is not 0."""
    settings.HUB_REDIS_CLUSTER = False
    names = {}
    for url in ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/5",
                "redis://127.0.0.1:6379?db=9"):
        settings.HUB_REDIS_URL = url
        names[url] = bus._prefix()
    assert names["redis://127.0.0.1:6379"] == names["redis://127.0.0.1:6379/0"] == "smartc:hub:"
    assert names["redis://127.0.0.1:6379/5"] == "smartc:hub:5:"
    assert names["redis://127.0.0.1:6379?db=9"] == "smartc:hub:9:"

    site_a, site_b = redis.Redis.from_url(settings.REDIS_URL), redis.Redis.from_url(settings.REDIS_URL)
    heard = site_b.pubsub(ignore_subscribe_messages=True)
    heard.subscribe(names["redis://127.0.0.1:6379/5"] + "guild.1")
    site_a.publish(names["redis://127.0.0.1:6379?db=9"] + "guild.1", "GUILD_UPDATE 0 {}")
    site_a.publish(names["redis://127.0.0.1:6379/5"] + "guild.1", "GUILD_UPDATE 0 {\"mine\":1}")
    got = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and not got:
        if (message := heard.get_message(timeout=0.1)) is not None:
            got.append(message["data"])
    assert got == [b'GUILD_UPDATE 0 {"mine":1}']
    assert heard.get_message(timeout=0.3) is None
    heard.close()
