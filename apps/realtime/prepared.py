"""READY's statements, prepared on the pooled PostgreSQL connection they run on.

A new socket's reads are a handful of small statements, the same ones for every socket. Sent as
text (Django's cursors bind parameters on the client), PostgreSQL parses and plans each of them
every time: in a reconnect storm that was most of the database's CPU per socket (planning the
unread counts' statement alone took 0.4 ms, running it 0.05 ms). Here each statement is prepared
once per connection (psycopg keeps the prepared ones per connection, and pooled connections live on
across lends), and statements that do not depend on each other go in one trip (psycopg's pipeline
mode). Each runs in Django's error wrapper and is logged where Django logs queries (DEBUG, tests'
CaptureQueriesContext), one entry per statement.

A connection pooler in transaction mode (PgBouncer before 1.21) does not keep prepared statements;
`GATEWAY_PREPARED_STATEMENTS = False` sends them as text, as Django's cursors do.
"""
from __future__ import annotations

import time

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def enabled() -> bool:
    return settings.GATEWAY_PREPARED_STATEMENTS


def fetch(sql: str, params) -> list[tuple]:
    """The rows of one statement."""
    return fetch_many([sql], params)[0]


def fetch_many(statements, params) -> list[list[tuple]]:
    """The rows of each statement, all sent in one trip, with the same parameters."""
    db = connections[DEFAULT_DB_ALIAS]  # `connection` looks it up again at each attribute
    db.ensure_connection()
    raw = db.connection
    started = time.monotonic()
    with db.wrap_database_errors:
        cursors = [psycopg.Cursor(raw) for _ in statements]
        try:
            if len(statements) == 1:
                cursors[0].execute(statements[0], params, prepare=True)
            else:
                with raw.pipeline():
                    for cursor, sql in zip(cursors, statements, strict=True):
                        cursor.execute(sql, params, prepare=True)
            rows = [cursor.fetchall() for cursor in cursors]
        finally:
            for cursor in cursors:
                cursor.close()
    if db.queries_logged:
        each = f"{(time.monotonic() - started) / len(statements):.3f}"
        db.queries_log.extend({"sql": sql, "time": each} for sql in statements)
    return rows
