import time

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory, add_member, make_guild


@pytest.fixture(scope="session", autouse=True)
def _close_database_pools(django_db_setup, django_db_blocker):
    """The PostgreSQL pool keeps connections open; close them before the test database is dropped."""
    yield
    from django.db import connections

    # Every alias whose pool exists, whichever thread opened it (an async test's connections are
    # another thread's, so this thread's own wrapper may never have been used). Asking `conn.pool`
    # of one without a pool would open a new one.
    for alias in connections:
        conn = connections[alias]
        if alias in getattr(conn, "_connection_pools", {}):
            conn.close_pool()
    # The gateway's READY threads keep the connection they last used until the thread ends, and
    # their executor lives as long as the process: end those sessions so the test database can go.
    default = connections["default"]
    if default.vendor == "postgresql":
        with django_db_blocker.unblock(), default.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        default.close()
        if "default" in getattr(default, "_connection_pools", {}):
            default.close_pool()


@pytest.fixture(scope="session", autouse=True)
def _flush_restores_content_types():
    """A transactional test ends with a flush, after which Django's post_migrate handlers rebuild
    every content type and permission row by row (most of the flush's time). The rows they make
    never change within a run: the first flush runs them, later flushes put the same rows back,
    ids included, in two inserts. Stable ids also keep a long-lived server's ContentType cache
    right across tests."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.commands import flush

    original = flush.emit_post_migrate_signal
    made: dict[str, tuple[list[dict], list[dict]]] = {}

    def emit_post_migrate_signal(verbosity, interactive, db, **kwargs):
        if db not in made:
            original(verbosity, interactive, db, **kwargs)
            made[db] = (list(ContentType.objects.using(db).values()), list(Permission.objects.using(db).values()))
        else:
            content_types, permissions = made[db]
            ContentType.objects.using(db).bulk_create([ContentType(**row) for row in content_types])
            Permission.objects.using(db).bulk_create([Permission(**row) for row in permissions])
        ContentType.objects.clear_cache()

    flush.emit_post_migrate_signal = emit_post_migrate_signal
    handle = flush.Command.handle

    def handle_retrying_a_deadlock(self, *args, **options):
        # A server process of the test (tests/browser) may still be reading when the TRUNCATE
        # comes; PostgreSQL then ends one of the two. The flush is one transaction: run it again.
        from django.core.management.base import CommandError

        for attempt in range(5):
            try:
                return handle(self, *args, **options)
            except CommandError as exc:
                if attempt == 4 or "deadlock" not in str(exc.__cause__ or ""):
                    raise
                time.sleep(0.2)

    flush.Command.handle = handle_retrying_a_deadlock
    yield
    flush.emit_post_migrate_signal = original
    flush.Command.handle = handle


@pytest.fixture(autouse=True)
def _english_first():
    """Each test starts in the default language: a request or test that switched this thread to
    French must not leave its messages to the next one."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters live in Redis; each test starts with none."""
    cache.clear()
    yield


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server, once per test session."""
    from tests.servers import S3

    server = S3().start()
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server, settings):
    """The default storage is S3 on moto's server for this test; the bucket starts empty."""
    client = s3_server.client()
    for key in s3_server.keys():
        client.delete_object(Bucket=s3_server.bucket, Key=key)
    settings.STORAGES = s3_server.storages(settings.STORAGES)
    return s3_server


@pytest.fixture
def moderators_group(db):
    """The Moderators group as the data migrations leave it. A transactional test's flush removes
    what migrations wrote, so tests that need the group put it back with the migrations' own code."""
    from importlib import import_module

    from django.apps import apps
    from django.contrib.auth.models import Group

    import_module("apps.moderation.migrations.0002_moderators_group").create_group(apps, None)
    import_module("apps.moderation.migrations.0004_reports_automod_kinds").moderators_review_reports(apps, None)
    return Group.objects.get(name="Moderators")


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def guild(owner):
    return make_guild(owner)


# Three members of `guild` (besides its owner), by the names the tests give them.
@pytest.fixture
def alice(guild):
    return add_member(guild, user=UserFactory(username="alice")).user


@pytest.fixture
def bob(guild):
    return add_member(guild, user=UserFactory(username="bob")).user


@pytest.fixture
def carol(guild):
    return add_member(guild, user=UserFactory(username="carol")).user


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def api_as(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login
