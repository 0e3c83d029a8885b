"""Message search latency over a large guild, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/smartc_bench .venv/bin/python -m tests.bench.search

Fills the guild "bench-search" with --messages rows (plus 10% in a second channel) through the
history benchmark's generator; each row carries one of 20 common words (each in ~5% of the rows)
and two of 5,000 rare ones (~400 rows each), some of them accented French words. Then times
`selectors.search_messages` (one page of 25, as the owner) per kind of query and prints
p50/p95/p99 in milliseconds. Run by hand; not part of `make test`.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from tests.bench.history import fill_channel, setup

COMMON = ["deploy", "release", "meeting", "coffee", "bug", "review", "merge", "test", "design", "music",
          "été", "fête", "théâtre", "réunion", "café", "numéro", "élève", "forêt", "hôtel", "garçon"]
RARE = [f"w{i:04d}x" for i in range(4_980)] + [f"déjà{i}" for i in range(20)]
CONTENT_SQL = ("'message ' || g || ' ' || (%s::text[])[1 + g %% 20]"
               " || ' ' || (%s::text[])[1 + (g::bigint * 7919) %% 5000]"
               " || ' ' || (%s::text[])[1 + (g::bigint * 104729) %% 5000]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    setup()
    from django.db import connection

    from apps.chat import selectors
    from apps.guilds.models import Member

    guild, _ = fill_channel(args.messages, guild_name="bench-search", content_sql=CONTENT_SQL,
                            params=(COMMON, RARE, RARE))
    member = Member.objects.select_related("guild", "user").get(guild=guild, user_id=guild.owner_id)
    print(f"guild {guild.id}: {args.messages:,} + {args.messages // 10:,} messages; {args.samples} samples per kind")
    with connection.cursor() as cur:
        cur.execute("EXPLAIN SELECT id FROM chat_message WHERE to_tsvector('smartc_search'::regconfig, content)"
                    " @@ to_tsquery('smartc_search'::regconfig, %s) ORDER BY id DESC LIMIT 1001", ["'w0042x':*"])
        print("plan:", " / ".join(row[0].strip() for row in cur.fetchall()[:4]))

    kinds = {
        "rare word": lambda: {"q": random.choice(RARE[:4_980])},
        "common word (~5%)": lambda: {"q": random.choice(COMMON[:10])},
        "accent folded": lambda: {"q": random.choice(["ete", "fete", "theatre", "reunion", "foret", "hotel"])},
        "two words (both)": lambda: {"q": _words_of_one_row(random.randint(1, args.messages))},
        "prefix (3 letters)": lambda: {"q": random.choice(["dep", "rel", "mee", "cof", "rev"])},
        "filter only (from:)": lambda: {"author_id": guild.owner_id},
    }
    for name, params in kinds.items():
        selectors.search_messages(member, **params())  # warm the connection
        times = []
        for _ in range(args.samples):
            query = params()
            t = time.perf_counter()
            page = selectors.search_messages(member, **query)
            times.append((time.perf_counter() - t) * 1000)
            assert len(page.messages) <= 25
        q = statistics.quantiles(times, n=100)
        print(f"{name:20} p50 {q[49]:7.2f} ms   p95 {q[94]:7.2f} ms   p99 {q[98]:7.2f} ms   (last total {page.total})")


def _words_of_one_row(g: int) -> str:
    """A common and a rare word that row `g` of the generator holds together (so the search finds it)."""
    return f"{COMMON[g % 20]} {RARE[(g * 7919) % 5000]}"


if __name__ == "__main__":
    main()
