"""Cards and forms on a phone (360 and 390px wide, touch), in English and in French: no page scrolls
sideways, and every card, field, label and error message is on the screen, not cut at its right
edge, whatever the natural width of what a card holds (a textarea's 40 columns, a long guild name
in a select, a long action name in a filter). The message composer's placeholder stays on its one
row, and the box still grows with what the member types. A 1280px screen keeps its layout.
Screenshots go to test-results/phone-*.png and desktop-*.png."""
import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from apps.bots import services as bots
from apps.guilds import invites
from apps.guilds.services import record_audit
from tests.browser.test_chat import in_worker_thread, lab  # noqa: F401 (a fixture)
from tests.browser.test_phone_layout import OVERFLOW, log_in, swipe
from tests.factories import make_guild
from tests.servers import ARTIFACTS

pytestmark = [pytest.mark.browser]

LONG_GUILD = "The Late Night Modular Synthesizer Appreciation Society"

# What a user would find cut off at the screen's edge: a card, a field, its label, its error, a
# button or a heading of the page's content reaching past the left or right edge. Wide tables
# scroll inside their own box on purpose; closed drawers are off the screen on purpose.
OFF_SCREEN = """() => {
  const width = window.innerWidth, found = [];
  const parts = "section, .card, form, fieldset, .field, label, input, select, textarea, button, .error, h1, h2, p";
  for (const el of document.querySelectorAll(`main :is(${parts})`)) {
    if (el.closest(".table-scroll, table.list, [inert], [hidden]")) continue;
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || el.type === "hidden") continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      const name = el.id ? `#${el.id}` : `${el.tagName.toLowerCase()}.${[...el.classList].join(".")}`;
      found.push(`${name}: ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  return found;
}"""


def phone(browser, width, lang="en"):
    ctx = browser.new_context(locale="fr-FR" if lang == "fr" else "en-US", viewport={"width": width, "height": 800},
                              is_mobile=True, has_touch=True, device_scale_factor=2)
    ctx.set_default_timeout(15_000)
    return ctx.new_page()


def fits(page, name, faults):
    """No sideways scrolling anywhere (the document or a box in it) and nothing cut off; what is
    wrong goes into `faults` under the page's name, so one run names every page at fault."""
    width, lang = page.viewport_size["width"], page.evaluate("document.documentElement.lang")
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-{lang}-{name}.png"))
    found = page.evaluate(OVERFLOW) + page.evaluate(OFF_SCREEN)
    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        found.append("the document scrolls sideways")
    if found:
        faults[name] = found


@pytest.fixture
def forms_world(lab):  # noqa: F811
    """Lab, plus a guild of Ada's with a long name, a bot application, an invite, and audit log
    entries whose action names are the longest the log has."""
    ada = lab["ada"]

    def build():
        make_guild(ada, name=LONG_GUILD)
        app, _token = bots.create_application(owner=ada, name="Helper")
        invite = invites.create_invite(actor=ada, guild=lab["guild"])
        for action in ("track_comment_auto_hide", "moderation_thresholds", "automod_rule_create"):
            record_audit(lab["guild"], ada, action, reason="Spam links in #general",
                         changes={"threshold": "0.85"})
        return {"app": app, "invite": invite}

    built = in_worker_thread(build)
    uid = urlsafe_base64_encode(force_bytes(ada.pk))
    return {**lab, **built, "reset": f"/accounts/reset/{uid}/{default_token_generator.make_token(ada)}/"}


def signed_out_pages(w):
    return [("login", "/accounts/login"), ("signup", "/accounts/signup"), ("reset", "/accounts/password/reset"),
            ("reset-sent", "/accounts/password/reset/sent"), ("reset-confirm", w["reset"]),
            ("reset-done", "/accounts/reset/done"), ("invite-visitor", f"/invite/{w['invite'].code}")]


def signed_in_pages(w):
    g = w["guild"].id
    general = w["general"]
    role = w["guild"].roles.first()
    return [
        ("guild-new", "/guilds/new"), ("authorize", f"/oauth2/authorize?client_id={w['app'].id}&scope=bot"),
        ("developers", "/developers/"), ("invite", f"/invite/{w['invite'].code}"),
        ("email", "/accounts/email"), ("sessions", "/accounts/sessions"), ("tokens", "/accounts/tokens"),
        ("data", "/accounts/data"), ("password", "/accounts/password"), ("2fa-enrol", "/accounts/2fa/enrol"),
        ("profile", "/accounts/profile"), ("settings", f"/guilds/{g}/settings"),
        ("settings-channels", f"/guilds/{g}/settings/channels"),
        ("channel-edit", f"/guilds/{g}/settings/channels/{general.id}"),
        ("settings-roles", f"/guilds/{g}/settings/roles"), ("role-edit", f"/guilds/{g}/settings/roles/{role.id}"),
        ("settings-members", f"/guilds/{g}/settings/members"), ("settings-invites", f"/guilds/{g}/settings/invites"),
        ("settings-moderation", f"/guilds/{g}/settings/moderation"),
        ("settings-audit", f"/guilds/{g}/settings/audit-log"), ("track-upload", f"/guilds/{g}/tracks"),
    ]


def walk_forms(page, base, w):
    faults = {}
    for name, path in signed_out_pages(w):
        assert page.goto(base + path).status == 200, path
        fits(page, name, faults)
    page.goto(base + "/accounts/login")
    page.click("button[type=submit]")  # the errors of an empty form
    expect(page.locator(".error, .errors").first).to_be_visible()
    fits(page, "login-errors", faults)

    log_in(page, base, w["ada"], "/accounts/profile")
    for name, path in signed_in_pages(w):
        assert page.goto(base + path).status == 200, path
        fits(page, name, faults)

    # The errors of a guild without a name, and a bot added to the guild with the long name.
    page.goto(base + "/guilds/new")
    page.click("#create-guild button[type=submit]")
    expect(page.locator("#create-guild .error")).to_be_visible()
    fits(page, "guild-new-errors", faults)
    page.goto(base + f"/oauth2/authorize?client_id={w['app'].id}&scope=bot")
    page.locator("#id_guild").select_option(label=LONG_GUILD)
    page.locator("#id_permissions_0").check()
    fits(page, "authorize-chosen", faults)
    return faults


@pytest.mark.parametrize("width, lang", [(360, "en"), (360, "fr"), (390, "fr")])
def test_card_and_form_pages_fit_a_phone(live_url, browser, forms_world, width, lang):
    page = phone(browser, width, lang)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    faults = walk_forms(page, live_url, forms_world)
    assert not faults, "\n".join(f"{name}: {found}" for name, found in faults.items())
    assert errors == []
    page.context.close()


@pytest.mark.parametrize("width", [390, 360])
def test_the_audit_log_fits_or_scrolls_only_its_table(live_url, browser, forms_world, width):
    """At 390px the audit log's six columns fit the screen; narrower, the table scrolls sideways
    inside its own box under a finger, and the page never does."""
    page = phone(browser, width)
    path = f"/guilds/{forms_world['guild'].id}/settings/audit-log"
    log_in(page, live_url, forms_world["ada"], path)
    faults = {}
    fits(page, "audit-log", faults)
    assert not faults, faults
    right = page.evaluate("Math.max(...[...document.querySelectorAll('#audit-entries tr')]"
                          ".map((tr) => tr.getBoundingClientRect().right))")
    if width == 390:
        assert right <= width, f"the table's rows reach {right}px"
        return
    table = page.locator("#audit-entries")
    box = table.bounding_box()
    for _ in range(2):  # the second swipe starts where the table cannot scroll further
        swipe(page, box["x"] + box["width"] * 0.8, box["x"] + 20, y=box["y"] + 60)
        page.wait_for_timeout(300)
    assert table.evaluate("(el) => el.scrollLeft") > 0
    assert page.evaluate("window.scrollX") == 0
    assert page.locator("main").evaluate("(el) => el.scrollLeft") == 0
    page.context.close()


def test_a_bots_permissions_are_a_titled_group_of_checkboxes(live_url, new_page, forms_world):
    """The permissions a bot is given are one checkbox each, under the group's title, not one
    label wrapped around the whole list."""
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_url, forms_world["ada"], "/accounts/profile")
    page.goto(live_url + f"/oauth2/authorize?client_id={forms_world['app'].id}&scope=bot")
    group = page.get_by_role("group", name="Permissions")
    expect(group).to_be_visible()
    send = group.get_by_role("checkbox", name="Send messages", exact=True)
    send.check()
    expect(send).to_be_checked()
    assert group.get_by_role("checkbox").count() > 5


def test_desktop_cards_keep_their_width(live_url, new_page, forms_world):
    page = new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, live_url, forms_world["ada"], "/accounts/profile")
    for name, path in (("guild-new", "/guilds/new"),
                       ("authorize", f"/oauth2/authorize?client_id={forms_world['app'].id}&scope=bot")):
        page.goto(live_url + path)
        assert page.locator("main .card.narrow").bounding_box()["width"] == 460, name
        page.screenshot(path=str(ARTIFACTS / f"desktop-1280-{name}.png"))
    page.goto(live_url + f"/guilds/{forms_world['guild'].id}/settings/audit-log")
    page.screenshot(path=str(ARTIFACTS / "desktop-1280-settings-audit.png"))


def placeholder(page, selector):
    """The height and the text-overflow of the placeholder a text box shows (Chromium draws it in
    the box's own shadow tree, which only the DevTools protocol reaches)."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        box = cdp.send("DOM.querySelector", {"nodeId": root["nodeId"], "selector": selector})["nodeId"]

        def find(node, inside=False):
            inside = inside or node["nodeId"] == box
            if inside and node.get("nodeName") == "DIV" and "placeholder" in node.get("attributes", []):
                return node
            for child in node.get("shadowRoots", []) + node.get("children", []):
                if (found := find(child, inside)) is not None:
                    return found
            return None

        node = find(root)
        assert node is not None, f"no placeholder in {selector}"
        height = cdp.send("DOM.getBoxModel", {"nodeId": node["nodeId"]})["model"]["height"]
        style = cdp.send("CSS.getComputedStyleForNode", {"nodeId": node["nodeId"]})["computedStyle"]
        return height, next(p["value"] for p in style if p["name"] == "text-overflow")
    finally:
        cdp.detach()


@pytest.mark.parametrize("width, lang", [(390, "fr"), (360, "fr"), (360, "en")])
def test_the_composers_placeholder_is_one_line_and_the_box_still_grows(live_url, browser, lab, width, lang):  # noqa: F811
    general = lab["general"]
    page = phone(browser, width, lang)
    errors = log_in(page, live_url, lab["ada"], f"/guilds/{general.guild_id}/channels/{general.id}")
    box = page.locator("#composer-input")
    expect(page.locator("#chat")).to_have_attribute("data-gateway", "open")
    expected = "Envoyer un message dans #general" if lang == "fr" else "Message #general"
    expect(box).to_have_attribute("placeholder", expected)
    line = box.evaluate("(el) => parseFloat(getComputedStyle(el).lineHeight)")
    one_row = box.bounding_box()["height"]
    assert one_row <= line + 22 + 1  # one line and its padding
    height, overflow = placeholder(page, "#composer-input")
    assert height < 1.5 * line, f"the placeholder is {height}px high, a line {line}px"
    assert overflow == "ellipsis"  # cut with "…" where the box is too narrow for it
    assert box.evaluate("(el) => el.scrollHeight <= el.clientHeight")  # nothing below the row
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-{lang}-composer.png"))

    # What the member types still wraps, and the box grows with it; sent, it is one row again.
    box.fill("A long first line that cannot fit in the message box of a phone")
    page.keyboard.press("End")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("and a second one")
    grown = box.bounding_box()["height"]
    assert grown >= one_row + 2 * line - 1, f"{grown} after three lines, {one_row} empty"
    assert box.evaluate("(el) => el.scrollHeight <= el.clientHeight + 1")
    page.screenshot(path=str(ARTIFACTS / f"phone-{width}-{lang}-composer-typed.png"))
    page.keyboard.press("Enter")
    expect(page.locator("#message-list .msg[data-id]").last).to_contain_text("and a second one")
    expect(box).to_have_value("")
    assert box.bounding_box()["height"] == pytest.approx(one_row, abs=1)
    assert errors == []
    page.context.close()
