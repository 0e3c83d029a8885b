"""The composer a Discord user expects, in a real browser: @member, @role, #channel and :emoji:
autocomplete by keyboard and by tap, the emoji picker's search (English and French), and emoji
drawn as the app's own glyphs, so they never show as empty boxes on a machine without an emoji
font (this Chromium has none)."""
import pytest
from playwright.sync_api import expect

from apps.chat.models import Message
from tests.browser.test_chat import in_worker_thread, lab, message, open_channel, post  # noqa: F401 (lab: a fixture)
from tests.factories import make_role

pytestmark = [pytest.mark.browser]

GLYPHS_LOADED = """async (root) => {
  const imgs = [...root.querySelectorAll("img.emoji")];
  await Promise.all(imgs.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done);
    img.addEventListener("error", done);
  })));
  return imgs.map((img) => [img.alt, img.naturalWidth > 0]);
}"""


def glyphs(locator):
    """[(alt, drawn)] of the emoji images under `locator`, once each has loaded or failed."""
    return [tuple(pair) for pair in locator.evaluate(GLYPHS_LOADED)]


def option(page, text):
    return page.locator('.autocomplete:not([hidden]) [role="option"]', has_text=text)


def test_autocomplete_inserts_mentions_a_channel_and_emoji_by_keyboard_and_tap(live_url, new_page, lab):  # noqa: F811
    synths = in_worker_thread(lambda: make_role(lab["guild"], name="Synth heads", mentionable=True))
    in_worker_thread(lambda: lab["guild"].members.get(user=lab["bo"]).roles.add(synths))
    ada, bo = new_page(), new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    open_channel(bo, live_url, lab["bo"], lab["general"])
    box = ada.locator("#composer-input")

    # "@b" offers Bo (by his display name, with his username); Enter inserts him, and does not send.
    box.press_sequentially("Hi @b")
    expect(option(ada, "Bo")).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", option(ada, "Bo").get_attribute("id"))
    box.press("Enter")
    expect(box).to_have_value("Hi @bo ")
    expect(ada.locator(".autocomplete:not([hidden])")).to_have_count(0)
    assert not Message.objects.exists()

    # A role by its name (spaces and all), chosen with the arrows and Tab.
    box.press_sequentially("and @syn")
    expect(option(ada, "@Synth heads")).to_be_visible()
    box.press("Tab")
    expect(box).to_have_value("Hi @bo and @Synth heads ")

    # ":thum" offers 👍 by its shortcode; Escape closes the list and keeps the text.
    box.press_sequentially(":thum")
    thumbs = option(ada, ":thumbsup:")
    expect(thumbs).to_be_visible()
    assert glyphs(thumbs) == [("", True)]  # the glyph is drawn, an image shipped with the app
    box.press("Escape")
    expect(ada.locator(".autocomplete:not([hidden])")).to_have_count(0)
    expect(box).to_have_value("Hi @bo and @Synth heads :thum")
    # Typing on reopens it; a click on the choice inserts the emoji itself.
    box.press_sequentially("bsup")
    thumbs.click()
    expect(box).to_have_value("Hi @bo and @Synth heads 👍 ")
    expect(box).to_be_focused()

    # A channel, and a :shortcode: typed whole without the list (turned into its emoji when sent).
    box.press_sequentially("see #ran")
    option(ada, "random").click()
    box.press_sequentially(":tada:")
    box.press("Enter")

    sent = message(bo, "Hi")
    expect(sent).to_be_visible()
    expect(sent.locator(".mention[data-user-id]")).to_have_text("@Bo")
    expect(sent.locator(".mention[data-role-id]")).to_have_text("@Synth heads")
    expect(sent.locator("a.channel-mention")).to_have_text("#random")
    expect(sent).to_contain_class("mentioned")  # Bo is pinged
    assert glyphs(sent.locator(".msg-content")) == [("👍", True), ("🎉", True)]
    stored = Message.objects.get()
    assert stored.content == (f"Hi <@{lab['bo'].id}> and <@&{synths.id}> 👍 see <#{lab['random'].id}> 🎉")
    assert list(stored.mentions.all()) == [lab["bo"]] and list(stored.mention_roles.all()) == [synths]
    sent.locator("a.channel-mention").click()
    expect(bo.locator("#channel-title")).to_contain_text("random")
    assert errors == []


def test_the_picker_finds_emoji_by_name_for_messages_and_reactions(live_url, new_page, lab):  # noqa: F811
    post(lab["bo"], lab["general"], "Launch day!")
    ada = new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])

    # The composer's emoji button: the search box has the focus; a name finds the emoji, Enter
    # takes the first match into the message box at the caret.
    ada.locator("#composer-input").fill("Ready ")
    ada.click("#composer-emoji")
    picker = ada.locator("#emoji-picker")
    expect(picker).to_be_visible()
    expect(picker).to_have_attribute("aria-label", "Insert an emoji")
    expect(picker.locator(".emoji-search")).to_be_focused()
    picker.locator(".emoji-search").press_sequentially("rocket")
    first = picker.locator(".emoji-choice").first
    expect(first).to_have_attribute("data-emoji", "🚀")
    expect(first).to_have_attribute("aria-label", "rocket")
    expect(picker.locator(".emoji-preview")).to_contain_text("rocket")
    picker.locator(".emoji-search").press("Enter")
    expect(picker).to_be_hidden()
    expect(ada.locator("#composer-input")).to_have_value("Ready 🚀")
    expect(ada.locator("#composer-input")).to_be_focused()

    # Groups as tabs, every emoji drawn as a glyph; a keyword finds what the name does not say.
    ada.click("#composer-emoji")
    picker.locator('.emoji-tab[data-group="4"]').click()  # food & drink
    expect(picker.locator(".emoji-heading")).to_have_text("Food & drink")
    expect(picker.locator('.emoji-choice[data-emoji="🍕"]')).to_be_visible()
    picker.locator(".emoji-search").fill("celebration")
    expect(picker.locator('.emoji-choice[data-emoji="🎉"]')).to_be_visible()
    picker.locator(".emoji-search").fill("zzzqqq")
    expect(picker.locator(".emoji-status")).to_have_text("No emoji found.")
    picker.locator(".emoji-search").press("Escape")
    expect(picker).to_be_hidden()
    expect(ada.locator("#composer-emoji")).to_be_focused()

    # Reactions use the same picker: by keyboard, search, then down into the grid and Enter.
    launch = message(ada, "Launch day!")
    launch.hover()
    launch.locator(".act-react").click()
    expect(picker).to_have_attribute("aria-label", "Add reaction")
    picker.locator(".emoji-search").press_sequentially("party popper")
    picker.locator(".emoji-search").press("ArrowDown")
    expect(picker.locator('.emoji-choice[data-emoji="🎉"]')).to_be_focused()
    ada.keyboard.press("Enter")
    chip = launch.locator('.reaction[data-emoji="🎉"]')
    expect(chip.locator(".reaction-count")).to_have_text("1")
    assert glyphs(chip) == [("🎉", True)]
    # The emoji used last comes first next time.
    launch.hover()
    launch.locator(".act-react").click()
    expect(picker.locator(".emoji-choice").first).to_have_attribute("data-emoji", "🎉")
    assert errors == []


def test_a_tap_inserts_a_suggestion_and_keeps_the_keyboard_up(live_url, browser, lab):  # noqa: F811
    ctx = browser.new_context(locale="en-US", has_touch=True, is_mobile=True, viewport={"width": 412, "height": 860})
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        errors = open_channel(page, live_url, lab["ada"], lab["general"])
        box = page.locator("#composer-input")
        box.tap()
        box.press_sequentially("ping @b")
        option(page, "Bo").tap()
        expect(box).to_have_value("ping @bo ")
        expect(box).to_be_focused()  # the tap did not take the focus (nor a phone's keyboard) away
        assert errors == []
    finally:
        ctx.close()


def test_the_picker_searches_and_labels_in_french(live_url, browser, lab):  # noqa: F811
    ctx = browser.new_context(locale="fr-FR")
    ctx.set_default_timeout(15_000)
    try:
        page = ctx.new_page()
        errors = open_channel(page, live_url, lab["ada"], lab["general"])
        page.click("#composer-emoji")
        picker = page.locator("#emoji-picker")
        expect(picker).to_have_attribute("aria-label", "Insérer un emoji")
        expect(picker.locator(".emoji-heading")).to_have_text("Fréquemment utilisés")
        picker.locator(".emoji-search").press_sequentially("fusee")  # no accent needed
        first = picker.locator(".emoji-choice").first
        expect(first).to_have_attribute("data-emoji", "🚀")
        expect(first).to_have_attribute("aria-label", "fusée")
        picker.locator(".emoji-search").fill("thumbsup")  # Discord's shortcodes work in French too
        expect(picker.locator(".emoji-choice").first).to_have_attribute("data-emoji", "👍")
        assert errors == []
    finally:
        ctx.close()


def test_emoji_are_drawn_as_shipped_glyphs_everywhere(live_url, new_page, lab):  # noqa: F811
    """Without a glyph image this Chromium (no emoji font) draws 🧙 as an empty box."""
    post(lab["bo"], lab["general"], "🧙\u200d♂️ casts ❤️\u200d🔥 on `🙂 in code`")
    post(lab["bo"], lab["general"], "🎉🎉")
    ada = new_page()
    errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    spell = message(ada, "casts")
    expect(spell.locator(".msg-content img.emoji")).to_have_count(3)
    assert glyphs(spell.locator(".msg-content")) == [("🧙\u200d♂️", True), ("❤️\u200d🔥", True), ("🙂", True)]
    expect(spell.locator("code img.emoji")).to_have_count(1)  # in code too: never an empty box
    assert glyphs(spell.locator(".msg-actions")) == [("", True), ("", True)]  # the pin and delete icons
    # A message of only emoji shows them large, as Discord does.
    party = ada.locator("#message-list .msg[data-id]").last
    expect(party.locator(".msg-content")).to_contain_class("emoji-only")
    assert party.locator(".msg-content img.emoji").first.evaluate("(img) => img.getBoundingClientRect().height") >= 40
    # The picker's grid and tabs are glyphs too.
    ada.click("#composer-emoji")
    picker = ada.locator("#emoji-picker")
    picker.locator('.emoji-tab[data-group="0"]').click()
    expect(picker.locator(".emoji-choice").first).to_be_visible()
    first_row = picker.locator(".emoji-choice").first
    assert glyphs(first_row)[0][1] is True
    ada.screenshot(path="test-results/emoji-picker.png")
    assert errors == []
