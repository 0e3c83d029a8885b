"""The hub on a real Redis Cluster (3 primaries): gateway events use sharded pub/sub, each group's
channel on the shard that owns its slot; two gateway nodes deliver to each other across it; a
shard that restarts costs its members a resume, and nothing committed is lost."""
from __future__ import annotations

import pytest

from apps.core import bus
from apps.core.events import guild_group, user_group
from apps.realtime.protocol import Close
from tests.integration.test_gateway_server import api, gateway, general  # noqa: F401
from tests.redis_cluster import RedisCluster
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)


def shard_channels(cluster: RedisCluster) -> dict[int, set[str]]:
    """What each primary holds sharded subscriptions for (SSUBSCRIBE), by port."""
    return {port: set(cluster.cli(port, "PUBSUB", "SHARDCHANNELS").split()) for port in cluster.ports}


def test_two_nodes_deliver_across_a_cluster_and_survive_a_shard_restart(guild, owner, alice, general):  # noqa: F811
    url = f"/api/channels/{general.id}/messages"
    c = RedisCluster(3).start()
    env = {"HUB_REDIS_URL": c.url, "HUB_REDIS_CLUSTER": "1"}
    try:
        with running_server(server="uvicorn", env=env) as node_a, running_server(server="daphne", env=env) as node_b:
            with gateway(node_a, alice) as on_a, gateway(node_b, owner) as on_b:
                status, first = api(node_b, owner, "POST", url, {"content": "across the cluster"})
                assert status == 201
                assert on_a.event("MESSAGE_CREATE")["id"] == first["id"]
                assert on_b.event("MESSAGE_CREATE")["id"] == first["id"]

                # Every group's channel is subscribed on the primary that owns its slot, and only
                # there; nothing goes through classic (cluster-wide) pub/sub.
                held = shard_channels(c)
                for group in (guild_group(guild.id), user_group(alice.id), user_group(owner.id)):
                    channel = bus.channel(group)
                    assert {port for port, channels in held.items() if channel in channels} == {c.port_of(channel)}
                assert all(c.cli(port, "PUBSUB", "CHANNELS").strip() == "" for port in c.ports)

                # The guild's shard restarts: the members subscribed there are told to resume.
                c.restart_node(c.port_of(bus.channel(guild_group(guild.id))))
                assert on_a.close_code(15) == Close.RESUME
                assert on_b.close_code(15) == Close.RESUME

            # While they were away a message was sent; they catch up over REST, and hear the next one.
            status, missed = api(node_a, owner, "POST", url, {"content": "while resuming"})
            assert status == 201
            with gateway(node_a, alice) as on_a, gateway(node_b, owner) as on_b:
                status, page = api(node_a, alice, "GET", f"{url}?after={first['id']}")
                assert [m["content"] for m in page] == ["while resuming"]
                status, after = api(node_a, alice, "POST", url, {"content": "after the restart"})
                assert on_a.event("MESSAGE_CREATE")["id"] == after["id"]
                assert on_b.event("MESSAGE_CREATE")["id"] == after["id"]
    finally:
        c.stop()
