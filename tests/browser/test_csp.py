"""The Content-Security-Policy in Chromium: every page is sent with a strict policy (no inline
script, no eval, no framing), and the key pages (a chat channel, a track page, a voice room, the
admin, the API docs) do all they do under it without a single violation."""
import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from tests.browser.test_chat import in_worker_thread, lab, message, open_channel  # noqa: F401 (a fixture)
from tests.browser.test_track_social import log_in, ready_track
from tests.browser.test_voice import join, media_browser, new_media_page, open_voice, room  # noqa: F401
from tests.factories import PASSWORD, UserFactory, make_role

pytestmark = [pytest.mark.browser]


def watch(page) -> list[str]:
    """Collects every CSP violation the page reports, across navigations: the browser's event and
    its console message (either one alone could be missed)."""
    seen = []
    page.expose_function("__smartcCspViolation", lambda text: seen.append(text))
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) => window.__smartcCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`));""")
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: seen.append(f"error: {exc}"))
    return seen


def assert_strict_policy(response):
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["script-src"].split()[0] == "'self'"
    assert all(s == "'self'" or s.startswith("'nonce-") for s in policy["script-src"].split())
    assert all(s == "'self'" or s.startswith("'nonce-") for s in policy["style-src"].split())
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert "unsafe" not in response.headers["content-security-policy"]


def test_a_chat_channel_runs_under_the_policy(live_url, new_page, lab):  # noqa: F811
    def colour_bo():
        member = lab["guild"].members.get(user=lab["bo"])
        member.roles.add(make_role(lab["guild"], name="Pink", color=0xE91E63))

    in_worker_thread(colour_bo)
    page = new_page()
    violations = watch(page)
    open_channel(page, live_url, lab["ada"], lab["general"])
    assert_strict_policy(page.reload())
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    page.fill("#composer-input", "**bold** and `code`")
    page.keyboard.press("Enter")
    expect(message(page, "bold")).to_be_visible()
    # Role colours are set through the DOM now that style attributes are refused.
    bo = page.locator(f'.member[data-user-id="{lab["bo"].id}"]')
    expect(bo.locator(".member-name")).to_have_css("color", "rgb(233, 30, 99)")
    expect(bo.locator(".avatar")).to_have_css("background-color", "rgb(233, 30, 99)")
    assert violations == []


def test_a_track_page_draws_and_plays_under_the_policy(live_url, new_page, lab, tmp_path):  # noqa: F811
    track = ready_track(lab["ada"], lab["guild"], tmp_path)
    page = new_page()
    violations = watch(page)
    log_in(page, live_url, lab["bo"], f"/tracks/{track.id}")
    assert_strict_policy(page.reload())
    # wavesurfer styles its shadow DOM with a <style> that carries the page's nonce.
    expect(page.locator("#waveform")).to_have_attribute("data-ready", "true")
    scroll = page.locator("#waveform > div").first.evaluate(
        "(host) => getComputedStyle(host.shadowRoot.querySelector('.scroll')).position")
    assert scroll == "relative"
    page.click("#play")
    page.wait_for_function("() => document.getElementById('audio').currentTime > 0.3")
    assert violations == []


def test_a_voice_room_joins_under_the_policy(live_url, new_media_page, room):  # noqa: F811
    page = new_media_page()
    violations = watch(page)
    open_voice(page, live_url, room["ada"], room["voice"])
    assert_strict_policy(page.reload())
    expect(page.locator("#voice")).to_have_attribute("data-gateway", "open")
    join(page)
    assert violations == []


def test_the_admin_and_its_login_run_under_the_policy(live_url, new_page, transactional_db):
    def staff_with_device():
        staff = UserFactory(username="root", is_staff=True, is_superuser=True)
        return staff, TOTPDevice.objects.create(user=staff, name="Phone", confirmed=True)

    staff, device = in_worker_thread(staff_with_device)
    page = new_page()
    violations = watch(page)
    assert_strict_policy(page.goto(f"{live_url}/admin/login/?next=/admin/"))
    expect(page.locator(".errornote.otp-note")).to_have_css("background-color", "rgb(238, 238, 255)")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_otp_token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    page.click("input[type=submit]")  # one step: the code is checked against the user's authenticator
    expect(page.locator("#user-tools")).to_contain_text("root")
    page.goto(f"{live_url}/admin/accounts/user/")
    expect(page.locator("#result_list")).to_contain_text("root")
    page.goto(f"{live_url}/admin/accounts/user/{staff.id}/change/")
    expect(page.locator("#id_username")).to_have_value("root")
    assert violations == []


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def next_frame(page):
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def scroll_through_operations(page, *, until=None) -> set[tuple[str, str]]:
    """Scrolls the API docs from the top, half a screen at a time, and returns the (method, path) of
    every operation drawn on the way; with `until` (a locator), stops as soon as it is drawn.
    Swagger UI draws only the operations near the screen once the list holds 150 rows or more
    (tag headings and operations): the others are not in the page until the reader scrolls to them."""
    seen = set()
    page.evaluate("window.scrollTo(0, 0)")
    for _ in range(1000):
        next_frame(page)
        seen |= {tuple(op) for op in page.locator(".opblock").evaluate_all("""(blocks) => blocks.map((b) => [
            b.querySelector(".opblock-summary-method").textContent.toLowerCase(),
            b.querySelector(".opblock-summary-path").dataset.path])""")}
        if until is not None and until.count():
            return seen
        if page.evaluate("scrollY + innerHeight >= document.documentElement.scrollHeight - 1"):
            return seen
        page.evaluate("window.scrollBy(0, innerHeight / 2)")
    raise AssertionError("the API docs never reached their end")


def test_the_api_docs_render_under_the_policy(live_url, new_page, transactional_db):
    page = new_page()
    violations = watch(page)
    assert_strict_policy(page.goto(f"{live_url}/api/docs/"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SmaRTC API")
    expect(page.locator(".opblock").first).to_be_visible()
    schema = page.request.get(f"{live_url}/api/schema/?format=json").json()
    operations = {(method, path) for path, item in schema["paths"].items() for method in item if method in HTTP_METHODS}
    # A reader scrolling down the page meets every operation of the schema, each once.
    rendered = scroll_through_operations(page)
    assert len(rendered) == len(operations)
    assert rendered == operations
    me = page.locator(".opblock-summary-path[data-path='/api/users/@me']").first
    scroll_through_operations(page, until=me)
    me.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert violations == []


def test_the_language_picker_still_switches_without_inline_script(live_url, new_page, transactional_db):
    page = new_page()
    violations = watch(page)
    page.goto(f"{live_url}/accounts/login")
    page.select_option("select[name=language]", "fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert violations == []
