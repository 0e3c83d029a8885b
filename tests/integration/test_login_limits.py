"""Login throttling as the owner of an account and a stranger meet it: a stranger's failures stop
the stranger, not the owner; many users behind one address are not blocked by a few typos; an
address that sprays usernames is; past a wide bound per account, clients without the owner's
device cookie wait longer and longer; X-Forwarded-For counts only from trusted proxies."""
import time

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts import services
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

OWNER_HOME = "198.51.100.7"
STRANGER = "203.0.113.66"


def log_in(client, username, password=PASSWORD, **extra):
    return client.post("/accounts/login", {"username": username, "password": password}, **extra)


def token(username, password=PASSWORD, **extra):
    return APIClient().post("/api/auth/token", {"username": username, "password": password}, format="json", **extra)


def signed_in(client) -> bool:
    return client.get("/accounts/profile").status_code == 200


def test_a_stranger_failing_from_elsewhere_does_not_stop_the_owner(settings):
    owner = UserFactory(username="owner")
    stranger = Client()
    for _ in range(settings.LOGIN_RATE_LIMIT):
        assert log_in(stranger, "owner", "guess", REMOTE_ADDR=STRANGER).status_code == 400
    # The stranger is stopped, even with the right password...
    assert log_in(stranger, "owner", REMOTE_ADDR=STRANGER).status_code == 429
    assert token("owner", REMOTE_ADDR=STRANGER).status_code == 429
    # ...and the owner, from home, is not: neither in the browser nor through the API.
    me = Client()
    assert log_in(me, owner.username, REMOTE_ADDR=OWNER_HOME).status_code == 302
    assert signed_in(me)
    assert token("owner", REMOTE_ADDR=OWNER_HOME).status_code == 201


def test_typos_of_several_users_behind_one_address_block_nobody_else(settings):
    office = "192.0.2.10"
    for name in ["ann", "ben", "cid", "dee", "eve"]:
        UserFactory(username=name)
        for _ in range(settings.LOGIN_RATE_LIMIT - 1):
            assert log_in(Client(), name, "typo", REMOTE_ADDR=office).status_code == 400
    colleague = UserFactory(username="fay")
    client = Client()
    assert log_in(client, colleague.username, REMOTE_ADDR=office).status_code == 302
    # Each of them still gets in as well.
    assert log_in(Client(), "ann", REMOTE_ADDR=office).status_code == 302


def test_an_address_spraying_usernames_is_refused(settings):
    settings.LOGIN_ADDRESS_USERNAMES = 6
    victim = UserFactory(username="victim")
    for i in range(settings.LOGIN_ADDRESS_USERNAMES):
        assert log_in(Client(), f"user{i}", "Winter2026!", REMOTE_ADDR=STRANGER).status_code == 400
    refused = log_in(Client(), victim.username, REMOTE_ADDR=STRANGER)
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.content.decode()
    assert log_in(Client(), victim.username, REMOTE_ADDR=OWNER_HOME).status_code == 302


def fail_from_many_addresses(username, count, start=1):
    for i in range(start, start + count):
        response = token(username, "guess", REMOTE_ADDR=f"203.0.113.{i}")
        assert response.status_code == 401, response.json()


def test_past_the_wide_bound_each_failure_delays_the_next_try_longer(settings):
    settings.LOGIN_USER_LIMIT = 4
    UserFactory(username="owner")
    fail_from_many_addresses("owner", 5)  # one over the bound: a 1 s wait
    waiting = token("owner", REMOTE_ADDR="203.0.113.100")
    assert waiting.status_code == 429
    assert waiting.json()["error"]["code"] == "rate_limited"
    assert int(waiting["Retry-After"]) == 1
    time.sleep(1.1)
    fail_from_many_addresses("owner", 1, start=101)  # two over: 2 s
    assert int(token("owner", REMOTE_ADDR="203.0.113.102")["Retry-After"]) == 2
    time.sleep(2.1)
    fail_from_many_addresses("owner", 1, start=103)  # three over: 4 s
    assert int(token("owner", REMOTE_ADDR="203.0.113.104")["Retry-After"]) == 4
    time.sleep(4.1)
    # Once the wait is over, the right password works from anywhere.
    assert token("owner", REMOTE_ADDR="203.0.113.105").status_code == 201


def test_the_delay_is_capped(settings):
    settings.LOGIN_USER_LIMIT, settings.LOGIN_USER_MAX_DELAY = 2, 7
    for i in range(40):
        services.record_login_failure(username="owner", ip=f"203.0.113.{i}")
    with pytest.raises(services.RateLimited) as refused:
        services.check_login_allowed(username="owner", ip="203.0.113.200")
    assert refused.value.retry_after == 7


def strangers_fail(username, count, ip=None):
    for i in range(count):
        services.record_login_failure(username=username, ip=ip or f"203.0.113.{i}")


def test_the_owners_browser_gets_in_whatever_strangers_try(settings):
    owner = UserFactory(username="owner")
    browser = Client()
    assert log_in(browser, owner.username, REMOTE_ADDR=OWNER_HOME).status_code == 302
    browser.post("/accounts/logout")
    # Strangers everywhere, and one behind the owner's own address, fail for the owner's name.
    strangers_fail("owner", settings.LOGIN_USER_LIMIT * 3)
    strangers_fail("owner", settings.LOGIN_RATE_LIMIT, ip=OWNER_HOME)
    assert log_in(Client(), "owner", REMOTE_ADDR=OWNER_HOME).status_code == 429  # a browser never signed in
    assert log_in(Client(), "owner", REMOTE_ADDR="192.0.2.200").status_code == 429  # delayed
    assert log_in(browser, "owner", REMOTE_ADDR=OWNER_HOME).status_code == 302
    assert signed_in(browser)


def test_the_owners_browser_is_stopped_by_its_own_failures(settings):
    owner = UserFactory(username="owner")
    browser = Client()
    assert log_in(browser, owner.username, REMOTE_ADDR=OWNER_HOME).status_code == 302
    browser.post("/accounts/logout")
    for _ in range(settings.LOGIN_RATE_LIMIT):
        assert log_in(browser, "owner", "typo", REMOTE_ADDR=OWNER_HOME).status_code == 400
    assert log_in(browser, "owner", REMOTE_ADDR=OWNER_HOME).status_code == 429


def test_a_device_cookie_is_good_only_for_its_account_and_unaltered(settings):
    UserFactory(username="owner")
    other = UserFactory(username="other")
    others_browser, owners_browser = Client(), Client()
    assert log_in(others_browser, other.username, REMOTE_ADDR=STRANGER).status_code == 302
    assert log_in(owners_browser, "owner", REMOTE_ADDR=OWNER_HOME).status_code == 302
    strangers_fail("owner", settings.LOGIN_USER_LIMIT + 3)
    assert log_in(others_browser, "owner", REMOTE_ADDR=STRANGER).status_code == 429
    cookie = owners_browser.cookies[services.DEVICE_COOKIE].value
    owners_browser.cookies[services.DEVICE_COOKIE] = cookie[:-3] + "abc"
    assert log_in(owners_browser, "owner", REMOTE_ADDR=OWNER_HOME).status_code == 429
    owners_browser.cookies[services.DEVICE_COOKIE] = cookie
    assert log_in(owners_browser, "owner", REMOTE_ADDR=OWNER_HOME).status_code == 302


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    UserFactory(username="owner")
    stranger = Client()
    for i in range(settings.LOGIN_RATE_LIMIT):
        assert log_in(stranger, "owner", "guess", REMOTE_ADDR=STRANGER,
                      HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code == 400
    assert log_in(stranger, "owner", REMOTE_ADDR=STRANGER, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


def test_clients_behind_a_trusted_proxy_are_counted_apart(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    owner = UserFactory(username="owner")
    proxy = "10.0.0.2"
    for _ in range(settings.LOGIN_RATE_LIMIT):
        # The stranger's own header is kept on the left by the proxy, which appends the real peer.
        assert log_in(Client(), "owner", "guess", REMOTE_ADDR=proxy,
                      HTTP_X_FORWARDED_FOR=f"{OWNER_HOME}, {STRANGER}").status_code == 400
    assert log_in(Client(), "owner", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=STRANGER).status_code == 429
    assert log_in(Client(), owner.username, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=OWNER_HOME).status_code == 302
