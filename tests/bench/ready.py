"""What one gateway READY costs in database reads, with each guild's layout cached per process
(apps/guilds/layout.py, the normal case) and read afresh for every socket (the cache emptied
before each READY: what every READY cost before the cache), through the ORM path and through the
gateway's raw SQL path (apps/realtime/ready.py), its statements sent as text or prepared, with
and without the sessions page's row that joins the session to its user. The reads are those of a
new socket's trips to a READY thread: its session and user, its guilds, READY's state, its DMs and
its notification settings (`GatewayConsumer._open`, without the group joins). Besides the time,
the CPU each READY costs this process and the PostgreSQL backend serving it (read from /proc:
PostgreSQL on this machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench .venv/bin/python -m tests.bench.ready

Builds (once) the guild "bench-ready": 12 text channels, 2 of them private to a role, 6 threads,
--members members each with a read marker on half the channels and a message after it in a
quarter of them, and a signed-in session each. Then times the reads of the gateway's connect
path for each member in turn (`--profile orm|raw`: a cProfile of that path's cached rounds).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path

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
    """A signed-in session per user, as Django's login writes it, and the sessions page's row that
    the browser's first page after the sign-in writes (apps.accounts.middleware)."""
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


def session_rows(keys: dict, present: bool) -> None:
    from apps.accounts.models import UserSession

    UserSession.objects.filter(session_key__in=keys.values()).delete()
    if present:
        UserSession.objects.bulk_create([UserSession(user_id=pk, session_key=key) for pk, key in keys.items()])


def orm_reads(session_key: str):
    """The general path: Django's session and user reads, then the ORM's (apps.realtime.selectors)."""
    from apps.realtime import selectors
    from apps.realtime.auth import credentials_of

    user, _, _ = credentials_of(session_key, "")
    selectors.ready_reads(user, selectors.guild_ids(user))


def raw_reads(session_key: str):
    """The gateway's path (apps.realtime.ready): two or three trips in raw SQL."""
    from apps.realtime import ready

    scope = {"headers": [(b"cookie", f"sessionid={session_key}".encode())]}
    assert ready.read_state(*ready.identify(scope, lambda user: True)) is not None


def backend_cpu() -> float:
    """CPU seconds of the PostgreSQL backend serving this process's connection."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(keys: list[str], *, cold: bool, reads=orm_reads) -> tuple[list[float], float, float, float]:
    """Each READY's time (ms); then per READY: statements, this process's CPU and the database's (ms)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.guilds import layout

    times, statements = [], 0
    cpu, db = time.process_time(), backend_cpu()
    for key in keys:
        if cold:
            layout._layout.cache_clear()
        connection.queries_log.clear()  # a full log (9,000) would capture nothing
        with CaptureQueriesContext(connection) as sent:  # Django's cursors and prepared.py log there
            start = time.perf_counter()
            reads(key)
            times.append((time.perf_counter() - start) * 1000)
        statements += len(sent)
    n = len(keys)
    return times, statements / n, (time.process_time() - cpu) * 1000 / n, (backend_cpu() - db) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=["orm", "raw"], help="print a cProfile of that path's cached rounds")
    args = parser.parse_args()
    setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model

    guild = build(args.members)
    users = list(get_user_model().objects.filter(memberships__guild=guild).exclude(pk=guild.owner_id))
    by_user = sessions_of(users)
    keys = list(by_user.values())
    # CPU time, not wall time: the waits for PostgreSQL are not what the profile is for.
    profile = cProfile.Profile(time.thread_time) if args.profile else None
    print(f"{len(users)} members of {guild.name}: one READY's reads each, {args.rounds} interleaved rounds")
    print("| path | READYs | executes per READY (a text batch counts once) | p50 ms | p95 ms | READYs/s (one thread) "
          "| CPU here, ms per READY | PostgreSQL CPU, ms per READY |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    # (label, layout read for every READY, reads, prepared statements, the sessions page's row, profiled)
    paths = (("ORM, layout read for every READY", True, orm_reads, False, False, False),
             ("ORM, layout cached per process", False, orm_reads, False, False, args.profile == "orm"),
             ("raw SQL as text, no sessions-page row", False, raw_reads, False, False, False),
             ("raw SQL prepared, no sessions-page row", False, raw_reads, True, False, False),
             ("raw SQL prepared, with the sessions-page row", False, raw_reads, True, True, args.profile == "raw"))
    results = {label: ([], 0.0, [], []) for label, *_ in paths}
    for _ in range(args.rounds):
        for label, cold, reads, prepared, rows, profiled in paths:
            settings.GATEWAY_PREPARED_STATEMENTS = prepared
            session_rows(by_user, rows)
            if profiled:
                profile.enable()
            times, statements, cpu, db = measure(keys, cold=cold, reads=reads)
            if profiled:
                profile.disable()
            done, _, cpus, dbs = results[label]
            results[label] = (done + times, statements, cpus + [cpu], dbs + [db])
    for label, (times, statements, cpus, dbs) in results.items():
        times.sort()
        p95 = times[int(len(times) * 0.95)]
        print(f"| {label} | {len(times):,} | {statements:.1f} | {statistics.median(times):.2f} | {p95:.2f} "
              f"| {1000 * len(times) / sum(times):,.0f} | {statistics.median(cpus):.3f} "
              f"| {statistics.median(dbs):.3f} |")

    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    main()
