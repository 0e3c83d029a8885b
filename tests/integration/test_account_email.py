"""Email addresses and password resets for real: a Celery worker sends the mail to an SMTP server
the test started, and the links in it are opened as a person would open them."""
from __future__ import annotations

import statistics
import time
from urllib.parse import urlsplit

import pytest
from django.test import Client

from apps.accounts import email_services
from apps.accounts.models import User, UserSession
from tests import servers
from tests.factories import PASSWORD, UserFactory
from tests.mail import body, link_in, smtp_server

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "a-brand-new-secret-42"


@pytest.fixture(scope="module")
def mailbox(django_db_setup):
    """An SMTP server and a Celery worker (the `default` queue) that sends to it."""
    with smtp_server() as box, servers.celery_worker(queues="default", env={"EMAIL_URL": box.url}):
        yield box


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def verified(**kwargs) -> User:
    user = UserFactory(**kwargs)
    User.objects.filter(pk=user.pk).update(email_verified=True)
    user.refresh_from_db()
    return user


def signed_in(user) -> Client:
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    client.force_login(user)
    assert client.get("/accounts/profile").status_code == 200  # the sessions list sees it
    return client


def test_sign_up_mails_a_link_that_verifies_the_address_once(mailbox, client):
    response = client.post("/accounts/signup", {"username": "newbie", "email": "Newbie@Example.COM",
                                                "password": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.email, user.email_verified) == ("Newbie@example.com", False)

    mail = mailbox.wait_for("Newbie@example.com")
    assert mail["Subject"] == "Confirm your email address for SmaRTC"
    link = link_in(mail)
    assert link.startswith("http://testserver/accounts/email/verify/")
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert "is now the verified address of your account" in page.content.decode()
    user.refresh_from_db()
    assert user.email_verified

    again = client.get(path_of(link))
    assert again.status_code == 400
    assert "already used" in again.content.decode()


def test_expired_and_tampered_verification_links_change_nothing(client, settings):
    user = UserFactory(email="zoe@example.com")
    link = path_of(email_services.verification_link(user, user.email, "http://testserver"))
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    settings.EMAIL_VERIFY_SECONDS = -1
    response = client.get(link)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    user.refresh_from_db()
    assert not user.email_verified


def test_changing_the_address_verifies_the_new_one_and_tells_the_old_one(mailbox):
    user = verified(username="maya", email="maya@old.example")
    client = signed_in(user)
    wrong = client.post("/accounts/email", {"email": "maya@new.example", "password": "nope"})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.content.decode()
    response = client.post("/accounts/email", {"email": "maya@new.example", "password": PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == ("maya@old.example", "maya@new.example", True)

    link = link_in(mailbox.wait_for("maya@new.example"))
    assert client.get(path_of(link)).status_code == 200
    user.refresh_from_db()
    assert (user.email, user.pending_email, user.email_verified) == ("maya@new.example", "", True)

    notice = mailbox.wait_for("maya@old.example")
    assert notice["Subject"] == "Your SmaRTC email address was changed"
    assert "maya@new.example" in body(notice)


@pytest.mark.parametrize(("email", "message"), [
    ("not-an-address", "Enter a valid email address."),
    ("a" * 250 + "@example.com", "Ensure this value has at most 254 characters"),
    ("", "This field is required."),
])
def test_a_malformed_or_oversized_new_address_is_refused_and_nothing_changes(email, message):
    user = verified(username="olga", email="olga@example.com")
    response = signed_in(user).post("/accounts/email", {"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert message in response.content.decode()
    user.refresh_from_db()
    assert (user.email, user.pending_email) == ("olga@example.com", "")


def test_an_address_another_account_verified_cannot_be_taken_by_its_link(mailbox):
    verified(username="first", email="shared@example.com")
    late = verified(username="late", email="late@example.com")
    client = signed_in(late)
    # The answer does not say the address is in use: only its owner's mailbox learns it.
    assert client.post("/accounts/email", {"email": "shared@example.com", "password": PASSWORD}).status_code == 302
    page = client.get(path_of(link_in(mailbox.wait_for("shared@example.com"))))
    assert page.status_code == 400
    assert "already used by another account" in page.content.decode()
    late.refresh_from_db()
    assert late.email == "late@example.com"


def test_password_reset_mail_sets_a_new_password_and_ends_every_session(mailbox):
    user = verified(username="rita", email="rita@example.com")
    elsewhere = signed_in(user)
    assert UserSession.objects.filter(user=user).count() == 1

    browser = Client()
    response = browser.post("/accounts/password/reset", {"email": "RITA@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password/reset/sent"
    mail = mailbox.wait_for("rita@example.com")
    assert mail["Subject"] == "Reset your SmaRTC password"
    link = path_of(link_in(mail))
    form = browser.get(link, follow=True)
    assert form.status_code == 200 and "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    assert set_url.endswith("/set-password/")  # the token left the URL for the session
    mismatch = browser.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 200 and "didn’t match" in mismatch.content.decode()
    done = browser.post(set_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done"

    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert elsewhere.get("/accounts/profile").status_code == 302  # signed out there
    assert not UserSession.objects.filter(user=user).exists()
    assert Client().post("/accounts/login", {"username": "rita", "password": NEW_PASSWORD}).status_code == 302
    # The link worked once.
    reused = Client().get(link, follow=True)
    assert "This reset link is not valid" in reused.content.decode()


def test_a_reset_for_an_unknown_address_answers_the_same_at_the_same_speed_and_mails_nobody(mailbox, settings):
    settings.PASSWORD_RESET_IP_LIMIT = settings.PASSWORD_RESET_EMAIL_LIMIT = 100
    verified(username="kim", email="kim@example.com")

    def ask(email):
        started = time.perf_counter()
        response = Client().post("/accounts/password/reset", {"email": email})
        return time.perf_counter() - started, response.status_code, response["Location"]

    unknown = [ask("nobody@example.com") for _ in range(5)]
    known = [ask("kim@example.com") for _ in range(5)]
    assert {r[1:] for r in unknown} == {r[1:] for r in known} == {(302, "/accounts/password/reset/sent")}
    gap = abs(statistics.median(t for t, *_ in unknown) - statistics.median(t for t, *_ in known))
    assert gap < 0.05, f"answers for known and unknown addresses differ by {gap * 1000:.0f} ms"
    mailbox.wait_for("kim@example.com", count=5)  # the worker took them in order: the unknown ones are done
    assert mailbox.to("nobody@example.com") == []


def test_reset_requests_are_rate_limited_per_address_and_per_client(mailbox, settings):
    settings.PASSWORD_RESET_EMAIL_LIMIT, settings.PASSWORD_RESET_IP_LIMIT = 2, 5
    for email in ("ghost@example.com", "ghost@example.com"):
        assert Client().post("/accounts/password/reset", {"email": email}).status_code == 302
    refused = Client().post("/accounts/password/reset", {"email": "Ghost@Example.com"})
    assert refused.status_code == 429
    assert "Too many reset requests" in refused.content.decode()
    # Two more addresses from the same client (five requests in all), then it is refused whatever the address.
    for email in ("a@example.com", "b@example.com"):
        assert Client().post("/accounts/password/reset", {"email": email}).status_code == 302
    assert Client().post("/accounts/password/reset", {"email": "c@example.com"}).status_code == 429


@pytest.mark.parametrize(("email", "message"), [
    ("not an address", "Enter a valid email address."),
    ("x" * 300 + "@example.com", "at most 254 characters"),
])
def test_a_malformed_reset_request_gets_a_form_error(client, email, message):
    response = client.post("/accounts/password/reset", {"email": email})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_tampered_reset_link_is_refused(client):
    user = verified(username="ivy", email="ivy@example.com")
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    page = client.get(f"/accounts/reset/{uid}/{token[:-2]}zz/", follow=True)
    assert "This reset link is not valid" in page.content.decode()
    assert client.post(f"/accounts/reset/{uid}/set-password/", {"new_password1": NEW_PASSWORD,
                                                                  "new_password2": NEW_PASSWORD}).status_code == 200
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_login_by_username_or_verified_email(client):
    verified(username="nina", email="nina@example.com")
    UserFactory(username="otto", email="otto@example.com")  # not verified: the address does not sign in
    assert Client().post("/accounts/login", {"username": "Nina@Example.com", "password": PASSWORD}).status_code == 302
    assert Client().post("/accounts/login", {"username": "nina", "password": PASSWORD}).status_code == 302
    refused = Client().post("/accounts/login", {"username": "otto@example.com", "password": PASSWORD})
    assert refused.status_code == 400
    assert "Wrong username, email or password." in refused.content.decode()
    api = Client().post("/api/auth/token", {"username": "nina@example.com", "password": PASSWORD},
                        content_type="application/json")
    assert api.status_code == 201
