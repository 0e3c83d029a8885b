"""Moderation in real browsers: an abusive message reaches the channel, a Celery worker scores it
and it leaves the other member's open page while its author keeps it as held; a moderator logs in
to the admin with a TOTP code, removes it and times the author out, who then cannot send."""
import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from apps.moderation.models import Flag
from celery_app import app as celery_app
from tests import servers
from tests.browser.test_chat import in_worker_thread, message, open_channel
from tests.factories import PASSWORD, UserFactory, add_member, make_guild

pytestmark = [pytest.mark.browser]

ABUSIVE = "You are a fucking idiot, shut up."


@pytest.fixture
def lab(transactional_db):
    def build():
        ada = UserFactory(username="ada", display_name="Ada")
        bo = UserFactory(username="bo", display_name="Bo")
        staff = UserFactory(username="warden", is_staff=True, is_superuser=True)
        device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
        guild = make_guild(ada, name="Synth Lab")
        add_member(guild, bo)
        return {"ada": ada, "bo": bo, "staff": staff, "device": device, "general": guild.channels.get(name="general")}

    return in_worker_thread(build)


def test_a_held_message_leaves_other_pages_and_a_moderator_removes_it_with_a_timeout(live_url, new_page, lab):
    ada, bo = new_page(), new_page()
    ada_errors = open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    in_worker_thread(celery_app.control.purge)  # tasks left on the queue by earlier tests

    bo.locator("#composer-input").fill(ABUSIVE)
    bo.locator("#composer-input").press("Enter")
    expect(message(ada, "fucking idiot")).to_be_visible()  # delivered before any scoring

    with servers.celery_worker(queues="moderation"):
        expect(message(ada, "fucking idiot")).to_have_count(0, timeout=60_000)
    held = message(bo, "fucking idiot")
    expect(held).to_have_class("msg held")
    expect(held.locator(".msg-held")).to_contain_text("held for review")

    # The moderator: password and TOTP code on the admin's login page, then the queue.
    mod = new_page()
    mod.goto(f"{live_url}/admin/login/?next=/admin/moderation/flag/")
    device = lab["device"]

    def log_in():
        mod.fill("#id_username", lab["staff"].username)
        mod.fill("#id_password", PASSWORD)
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        mod.fill("#id_otp_token", f"{code:06d}")
        mod.get_by_role("button", name="Log in").click()

    log_in()  # one step: the code is checked against the moderator's authenticator
    row = mod.locator("#result_list tbody tr", has_text="fucking idiot")
    expect(row).to_contain_text("1.00")
    row.locator("th a, td.field-id a").first.click()
    expect(mod.locator(".context-message.flagged")).to_contain_text(ABUSIVE)
    mod.locator("button[value=remove_timeout_1h]").click()
    expect(mod.locator(".messagelist")).to_contain_text("1 message(s) removed")

    flag = in_worker_thread(lambda: Flag.objects.get())
    assert (flag.state, flag.label) == ("removed", "toxic")
    expect(message(bo, "fucking idiot")).to_have_count(0)  # gone from its author's page too

    bo.locator("#composer-input").fill("sorry, can I explain?")
    bo.locator("#composer-input").press("Enter")
    expect(bo.locator("#composer-error")).to_contain_text("You are timed out until")
    expect(message(ada, "can I explain")).to_have_count(0)
    assert ada_errors == [] and bo_errors == []


def test_a_member_reports_a_message_from_its_actions_and_sees_the_outcome(live_url, new_page, lab):
    from apps.moderation import report_services
    from apps.moderation.models import Report
    from tests.browser.test_chat import in_worker_thread as run

    ada, bo = new_page(), new_page()
    open_channel(ada, live_url, lab["ada"], lab["general"])
    bo_errors = open_channel(bo, live_url, lab["bo"], lab["general"])
    ada.locator("#composer-input").fill("Bo, your mixes are terrible, quit")
    ada.locator("#composer-input").press("Enter")
    rude = message(bo, "your mixes are terrible")
    expect(rude).to_be_visible()
    rude.hover()
    rude.locator(".act-report").click()
    dialog = bo.locator("#report-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#report-reason").select_option("harassment")
    dialog.locator("#report-details").fill("Third time this week.")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.locator("#report-status")).to_contain_text("The moderators will review your report")
    report = run(lambda: Report.objects.get())
    assert (report.reporter_id, report.category, report.details) == (lab["bo"].id, "harassment",
                                                                     "Third time this week.")
    # Ada's own message offers her no report button.
    mine = message(ada, "your mixes are terrible")
    mine.hover()
    expect(mine.locator(".act-report")).to_have_count(0)
    run(lambda: report_services.dismiss(actor=lab["staff"], report=report))
    mine_list = bo.evaluate("fetch('/api/reports').then(r => r.json())")
    assert [r["state"] for r in mine_list] == ["dismissed"]
    assert bo_errors == []
