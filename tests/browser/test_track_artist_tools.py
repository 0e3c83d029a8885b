"""Artist tools and the activity bell in a real browser: Ada edits her track's title, licence and
download toggle through its edit page and finds them on the track's page; while her page is open,
Bo likes the track and her bell's count goes up live; opening the bell lists the like and clears
the count."""
import pytest
from playwright.sync_api import expect

from apps.tracks import services as tracks
from tests.browser.test_chat import in_worker_thread, lab  # noqa: F401 (a fixture)
from tests.factories import PASSWORD, make_track

pytestmark = [pytest.mark.browser]


def log_in(page, base, user, path):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/accounts/login?next={path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    return errors


def test_edit_a_track_and_hear_of_a_like_live(live_url, new_page, lab):  # noqa: F811
    ada_user, bo = lab["ada"], lab["bo"]
    song = in_worker_thread(lambda: make_track(lab["guild"], ada_user, title="Night Drive"))
    ada = new_page()
    errors = log_in(ada, live_url, ada_user, f"/tracks/{song.id}/edit")
    expect(ada.locator("#edit-form")).to_be_visible()

    ada.fill("#edit-form input[name=title]", "Night Drive (2026 mix)")
    ada.fill("#edit-form textarea[name=credits]", "Mixed by Bo")
    ada.select_option("#edit-form select[name=licence]", "cc-by-sa")
    ada.check("#edit-form input[name=downloadable]")
    ada.click("#edit-form button[type=submit]")
    expect(ada.locator("#edit-saved")).to_have_text("Saved.")
    expect(ada.locator("#edit-form input[name=title]")).to_have_value("Night Drive (2026 mix)")

    # A release date in the past is refused, and nothing changes.
    ada.fill("#edit-form input[name=release_at]", "2001-01-01T10:00")
    ada.click("#edit-form button[type=submit]")
    expect(ada.locator("#edit-error")).to_have_text("The release date must be in the future.")

    # The bell of this page (which opened no socket of its own) follows Ada's activity live.
    expect(ada.locator("#bell")).to_have_attribute("data-live", "true")
    expect(ada.locator("#bell .bell-count")).to_be_hidden()
    in_worker_thread(lambda: tracks.like_track(user=bo, track_id=song.id))
    expect(ada.locator("#bell .bell-count")).to_have_text("1")
    ada.click("#bell .bell-button")
    expect(ada.locator("#bell .bell-item").first).to_contain_text("Bo liked Night Drive (2026 mix)")
    expect(ada.locator("#bell .bell-count")).to_be_hidden()
    assert errors == []

    # Bo sees the edited track, its credits and licence, and may download it.
    bo_page = new_page()
    log_in(bo_page, live_url, bo, f"/tracks/{song.id}")
    expect(bo_page.locator("h1.track-name")).to_have_text("Night Drive (2026 mix)")
    expect(bo_page.locator("#track-meta")).to_contain_text("Mixed by Bo")
    expect(bo_page.locator("#track-meta")).to_contain_text("CC BY-SA")
    expect(bo_page.locator("#track-download")).to_be_visible()
    expect(bo_page.locator("#track-edit")).to_have_count(0)
