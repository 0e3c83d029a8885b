"""History page latency with a large channel, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench .venv/bin/python -m tests.bench.history

Creates the database if needed, migrates, fills one channel with --messages rows (plus 10% in a
second channel, so the index is shared), then times `selectors.history` pages (50 messages) at
random depths: newest page, `before` a random id, `after` a random id, `around` a random id.
Prints p50/p95/p99 in milliseconds per kind. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=500)
    args = parser.parse_args()

    setup()
    from apps.chat import selectors

    _, channel = fill_channel(args.messages)
    ids = list(channel.messages.order_by("id").values_list("id", flat=True)[:: max(1, args.messages // 10_000)])
    print(f"channel {channel.id}: {channel.messages.count():,} messages; {args.samples} samples per kind")

    kinds = {
        "newest": lambda: selectors.history(channel, limit=50),
        "before": lambda: selectors.history(channel, before=random.choice(ids), limit=50),
        "after": lambda: selectors.history(channel, after=random.choice(ids), limit=50),
        "around": lambda: selectors.history(channel, around=random.choice(ids), limit=50),
    }
    for name, page in kinds.items():
        page()  # warm the connection
        times = []
        for _ in range(args.samples):
            t = time.perf_counter()
            rows = page()
            times.append((time.perf_counter() - t) * 1000)
            assert len(rows) <= 50
        q = statistics.quantiles(times, n=100)
        print(f"{name:7} p50 {q[49]:6.2f} ms   p95 {q[94]:6.2f} ms   p99 {q[98]:6.2f} ms")


def setup() -> None:
    """Point Django at DATABASE_URL (a PostgreSQL database, created if missing) and migrate it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database (it is created if missing).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartc.settings.dev")
    _create_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill_channel(messages: int, *, guild_name: str = "bench", content_sql: str = "'message ' || g",
                 params: tuple = ()):
    """(guild, #general) of the guild named `guild_name`, #general holding `messages` rows (plus 10%
    in a second channel, so the indexes are shared). `content_sql` builds each row's content from
    `g`, the row number (with `params` as its query parameters)."""
    from django.db import connection

    from apps.guilds import services
    from apps.guilds.models import Channel, Guild
    from tests.factories import UserFactory

    guild = Guild.objects.filter(name=guild_name).first()
    if guild is None:
        owner = UserFactory(username=f"bench{random.randint(0, 10**9)}")
        guild = services.create_guild(owner=owner, name=guild_name)
    channel = Channel.objects.get(guild=guild, name="general")
    other = Channel.objects.filter(guild=guild, type="voice").first()
    have = channel.messages.count()
    if have < messages:
        started = time.perf_counter()
        with connection.cursor() as cur:
            for ch, n in ((channel.id, messages - have), (other.id, messages // 10)):
                cur.execute(
                    "INSERT INTO chat_message (channel_id, author_id, content, content_html, mention_everyone,"
                    f" created_at) SELECT %s, %s, {content_sql}, 'message ' || g, false, now()"
                    " FROM generate_series(1, %s) g", [ch, guild.owner_id, *params, n])
            cur.execute("UPDATE guilds_channel c SET last_message_id = (SELECT max(id) FROM chat_message m"
                        " WHERE m.channel_id = c.id) WHERE c.guild_id = %s", [guild.id])
            cur.execute("ANALYZE chat_message")
        print(f"inserted in {time.perf_counter() - started:.1f} s")
    return guild, channel


def _create_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
