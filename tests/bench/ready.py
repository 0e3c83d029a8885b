"""What one gateway READY costs in database reads, with each guild's layout cached per process
(apps/guilds/layout.py, the normal case) and read afresh for every socket (the cache emptied
before each READY: what every READY cost before the cache), through the ORM path and through the
gateway's raw SQL path (apps/realtime/ready.py). The reads are those of a new socket's
one trip to a READY thread: its session and user, its guilds, READY's state, its DMs and its
notification settings (`GatewayConsumer._open`, without the group joins).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench .venv/bin/python -m tests.bench.ready

Builds (once) the guild "bench-ready": 12 text channels, 2 of them private to a role, 6 threads,
--members members each with a read marker on half the channels and a message after it in a
quarter of them, and a signed-in session each. Then times the reads of the gateway's connect
path for each member in turn (`--profile orm|raw`: a cProfile of that path's cached rounds).
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from tests.bench.history import setup


def build(members: int):
    from django.contrib.auth import get_user_model

    from apps.chat import services as chat
    from apps.chat import thread_services
    from apps.chat.models import ReadState
    from apps.guilds import services
    from apps.guilds.models import Guild, Member, Role
    from apps.guilds.permissions import Permission

    user_model = get_user_model()
    guild = Guild.objects.filter(name="bench-ready").first()
    if guild is not None and guild.members.count() == members + 1:
        return guild
    if guild is not None:
        guild.delete()
    owner, _ = user_model.objects.get_or_create(username="ready-owner")
    guild = services.create_guild(owner=owner, name="bench-ready")
    crew = services.create_role(actor=owner, guild=guild, name="crew")
    everyone = Role.objects.get(guild=guild, is_default=True)
    channels = [guild.channels.get(name="general")]
    for i in range(11):
        channels.append(services.create_channel(actor=owner, guild=guild, name=f"room-{i}"))
    for ch in channels[-2:]:
        services.set_overwrite(actor=owner, channel=ch, role=everyone, allow=0, deny=int(Permission.VIEW_CHANNEL))
        services.set_overwrite(actor=owner, channel=ch, role=crew, allow=int(Permission.VIEW_CHANNEL), deny=0)
    first = [chat.send_message(author=owner, channel_id=ch.id, content=f"welcome to {ch.name}") for ch in channels]
    for i in range(6):
        thread_services.create_thread(actor=owner, channel_id=channels[i].id, message_id=first[i].id,
                                      name=f"thread {i}")
    users = user_model.objects.bulk_create(
        [user_model(username=f"ready-{guild.id}-{i}", display_name=f"Reader {i}") for i in range(members)])
    rows = Member.objects.bulk_create([Member(guild=guild, user=u) for u in users])
    crew.members.add(*rows[::2])
    ReadState.objects.bulk_create([ReadState(user=u, channel=ch, last_read_id=first[j].id)
                                   for u in users for j, ch in enumerate(channels) if j % 2 == 0])
    for ch in channels[::4]:
        chat.send_message(author=owner, channel_id=ch.id, content="news since your last visit")
    return guild


def sessions_of(users) -> dict:
    """A signed-in session per user, as Django's login writes it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    keys = {}
    for u in users:
        store = SessionStore()
        store.update({SESSION_KEY: str(u.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                      HASH_SESSION_KEY: u.get_session_auth_hash()})
        store.create()
        keys[u.pk] = store.session_key
    return keys


def orm_reads(session_key: str):
    """The general path: Django's session and user reads, then the ORM's (apps.realtime.selectors)."""
    from apps.realtime import selectors
    from apps.realtime.auth import credentials_of

    user, _, _ = credentials_of(session_key, "")
    selectors.ready_reads(user, selectors.guild_ids(user))


def raw_reads(session_key: str):
    """The gateway's path (apps.realtime.ready): three trips in raw SQL."""
    from apps.realtime import ready

    scope = {"headers": [(b"cookie", f"sessionid={session_key}".encode())]}
    assert ready.read_state(*ready.identify(scope, lambda user: True)) is not None


def measure(keys: list[str], *, cold: bool, reads=orm_reads) -> tuple[list[float], float]:
    from django.db import connection

    from apps.guilds import layout

    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    times = []
    with connection.execute_wrapper(count):
        for key in keys:
            if cold:
                layout._layout.cache_clear()
            start = time.perf_counter()
            reads(key)
            times.append((time.perf_counter() - start) * 1000)
    return times, queries / len(keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=["orm", "raw"], help="print a cProfile of that path's cached rounds")
    args = parser.parse_args()
    setup()
    from django.contrib.auth import get_user_model

    guild = build(args.members)
    users = list(get_user_model().objects.filter(memberships__guild=guild).exclude(pk=guild.owner_id))
    keys = list(sessions_of(users).values())
    profile = cProfile.Profile() if args.profile else None
    print(f"{len(users)} members of {guild.name}: one READY's reads each, {args.rounds} interleaved rounds")
    print("| layout | READYs | queries per READY | p50 ms | p95 ms | READYs/s (one thread) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    paths = (("ORM, read for every READY", True, orm_reads, False),
             ("ORM, cached per process", False, orm_reads, args.profile == "orm"),
             ("raw SQL, cached per process", False, raw_reads, args.profile == "raw"))
    results = {label: ([], 0.0) for label, *_ in paths}
    for _ in range(args.rounds):
        for label, cold, reads, profiled in paths:
            if profiled:
                profile.enable()
            times, queries = measure(keys, cold=cold, reads=reads)
            if profiled:
                profile.disable()
            results[label][0].extend(times)
            results[label] = (results[label][0], queries)
    for label, (times, queries) in results.items():
        times.sort()
        p95 = times[int(len(times) * 0.95)]
        print(f"| {label} | {len(times):,} | {queries:.1f} | {statistics.median(times):.2f} | {p95:.2f} "
              f"| {1000 * len(times) / sum(times):,.0f} |")

    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
