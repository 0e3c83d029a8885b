"""Browser tests: real Chromium (Debian's, never a downloaded one) driven by Playwright against the
app served by daphne in a subprocess, on the test database."""
import os
import time

import pytest

from tests.servers import ARTIFACTS, running_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Playwright's sync API keeps an event loop running in this thread; the ORM calls the fixtures
# make around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="package")
def _served(django_db_setup, django_db_blocker):
    """One daphne for the browser tests, started once: a start-up costs seconds, and each test's
    rows are flushed between tests anyway (`transactional_db`). Ids never repeat across tests (the
    flush keeps the sequences), so nothing the server holds in memory matches a later test's rows;
    its rate-limit counters live in Redis, which `_clean_cache` empties before each test. The
    database starts flushed, as every later test finds it, so the content type ids the server
    caches are those every flush puts back (`_flush_restores_content_types`)."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("flush", verbosity=0, interactive=False)
    with running_server() as url:
        yield url


@pytest.fixture
def live_url(_served, transactional_db):
    """The whole platform served by daphne (manage.py runserver) on the test database."""
    if _served.proc.poll() is not None:
        pytest.fail("the shared daphne has exited; see its log in test-results/")
    yield _served
    _wait_until_the_server_is_idle()


def _wait_until_the_server_is_idle(timeout: float = 10.0) -> None:
    """The flush after the test truncates every table; the server may still be finishing what the
    closed pages started (a socket's goodbye, a last read), and a TRUNCATE waiting on its reads
    while it waits on the TRUNCATE is a deadlock. Wait until no other session of the test database
    is in a query or a transaction (the flush also retries a deadlock: tests/conftest.py)."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')")
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


@pytest.fixture(scope="package")
def browser():
    """One Chromium for the browser tests, closed after them: Playwright's sync API keeps an event
    loop running in the main thread while it is open, which async tests elsewhere cannot share."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install the Debian package 'chromium' "
                    "(make test does it when run as root) or set CHROMIUM_PATH.")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts = []

    def make():
        ctx = browser.new_context(locale="en-US")
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("dialog", lambda d: d.accept())
        return page

    yield make
    for ctx in contexts:
        ctx.close()
