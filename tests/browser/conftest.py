"""Browser tests: real Chromium (Debian's, never a downloaded one) driven by Playwright against the
app served by daphne in a subprocess, on the test database."""
import os

import pytest

from tests.servers import ARTIFACTS, running_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Playwright's sync API keeps an event loop running in this thread; the ORM calls the fixtures
# make around it are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def live_url(transactional_db):
    """The whole platform served by daphne (manage.py runserver) on the test database."""
    with running_server() as url:
        yield url


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
