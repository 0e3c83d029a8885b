"""Signed-in sessions and API tokens against the real stack: signing a session out or revoking a
token closes the gateway sockets that used it at once; expired, revoked and under-scoped tokens
are refused on the REST API and on the gateway."""
from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from apps.accounts.models import ApiToken, UserSession
from tests.factories import PASSWORD, UserFactory, api_token
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.0 Mobile/15E148 Safari/604.1")


@pytest.fixture
def other_user(db):
    return UserFactory()


def browser(user, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    assert client.get("/accounts/profile").status_code == 200
    return client


@contextmanager
def gateway(base: str, *, cookie: str | None = None, token: str | None = None):
    headers = {}
    if cookie:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    if token:
        headers["Authorization"] = f"Token {token}"
    with connect(base.replace("http://", "ws://") + "/ws/gateway/", origin=base, additional_headers=headers,
                 open_timeout=10) as ws:
        yield ws


def frames_until_ready(ws) -> None:
    while True:
        f = json.loads(ws.recv(timeout=10))
        if f["op"] == 0 and f["t"] == "READY":
            return


def close_code(ws, timeout: float = 5) -> int:
    with pytest.raises(ConnectionClosed) as exc:
        while True:
            ws.recv(timeout=timeout)
    return exc.value.rcvd.code


def session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_sessions_page_lists_browsers_and_marks_this_one(user):
    laptop, phone = browser(user, FIREFOX), browser(user, SAFARI)
    page = laptop.get("/accounts/sessions").content.decode()
    assert page.count('class="session-row"') == 2
    assert "Firefox · Linux" in page and "Safari · iOS" in page
    assert page.count("this session") == 1
    this_row = page[page.index("Firefox · Linux"):].split("</tr>")[0]
    assert "this session" in this_row
    assert phone.get("/accounts/sessions").content.decode().count("this session") == 1


def test_signing_a_session_out_closes_its_gateway_socket_at_once(user):
    laptop, phone = browser(user, FIREFOX), browser(user, SAFARI)
    phone_row = UserSession.objects.get(session_key=session_key(phone))
    with running_server() as base, gateway(base, cookie=session_key(phone)) as phone_socket, \
            gateway(base, cookie=session_key(laptop)) as laptop_socket:
        frames_until_ready(phone_socket)
        frames_until_ready(laptop_socket)
        response = laptop.post(f"/accounts/sessions/{phone_row.id}/end")
        assert response.status_code == 302
        assert close_code(phone_socket) == 4003
        # The laptop's own socket stays.
        with pytest.raises(TimeoutError):
            laptop_socket.recv(timeout=1)
    assert phone.get("/accounts/profile").status_code == 302
    assert laptop.get("/accounts/profile").status_code == 200
    again = laptop.post(f"/accounts/sessions/{phone_row.id}/end", follow=True)
    assert "This session has already ended." in again.content.decode()


def test_sign_out_everywhere_else_keeps_only_this_session(user, other_user):
    laptop, phone, tablet = browser(user, FIREFOX), browser(user, SAFARI), browser(user, FIREFOX)
    stranger = browser(other_user, FIREFOX)
    with running_server() as base, gateway(base, cookie=session_key(phone)) as phone_socket:
        frames_until_ready(phone_socket)
        assert laptop.post("/accounts/sessions/end-others").status_code == 302
        assert close_code(phone_socket) == 4003
    assert [c.get("/accounts/profile").status_code for c in (laptop, phone, tablet, stranger)] == [200, 302, 302, 200]
    assert list(UserSession.objects.filter(user=user).values_list("session_key", flat=True)) == [session_key(laptop)]


def test_another_users_session_cannot_be_signed_out(user, other_user):
    mine, theirs = browser(user, FIREFOX), browser(other_user, FIREFOX)
    row = UserSession.objects.get(session_key=session_key(theirs))
    mine.post(f"/accounts/sessions/{row.id}/end")
    assert theirs.get("/accounts/profile").status_code == 200


def test_logging_out_closes_the_tabs_sockets(user):
    laptop = browser(user, FIREFOX)
    with running_server() as base, gateway(base, cookie=session_key(laptop)) as ws:
        frames_until_ready(ws)
        laptop.post("/accounts/logout")
        assert close_code(ws) == 4003


# --- API tokens ----------------------------------------------------------------------------------

def with_token(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def test_tokens_are_made_on_the_page_shown_once_and_stored_hashed(user):
    client = browser(user, FIREFOX)
    page = client.post("/accounts/tokens", {"name": "deploy bot", "scopes": ["read", "gateway"],
                                            "expires_in_days": 30})
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    html = page.content.decode()
    secret = html.split('id="new-token-secret" readonly value="')[1].split('"')[0]
    assert secret.startswith("smartc_")
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.scopes) == ("deploy bot", ["read", "gateway"])
    assert secret not in json.dumps([token.key_hash, token.prefix, token.name])
    assert secret not in client.get("/accounts/tokens").content.decode()  # shown once
    assert with_token(secret).get("/api/users/@me").json()["username"] == user.username

    bad = client.post("/accounts/tokens", {"name": "", "scopes": [], "expires_in_days": 9999})
    assert bad.status_code == 400
    assert ApiToken.objects.filter(user=user).count() == 1


def test_scopes_expiry_and_revocation_on_the_rest_api(user, guild):
    reader = api_token(user, scopes=["read"])
    writer = api_token(user, scopes=["write"])
    assert with_token(reader).get("/api/guilds").status_code == 200
    refused = with_token(reader).post("/api/guilds", {"name": "Nope"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "missing_scope"
    assert refused.json()["error"]["message"] == "This token lacks the “write” scope."
    assert with_token(writer).post("/api/guilds", {"name": "Yes"}, format="json").status_code == 201
    assert with_token(writer).get("/api/guilds").json()["error"]["scope"] == "read"

    # A token cannot make a token with more than it has.
    grab = with_token(api_token(user, scopes=["read", "write"])).post(
        "/api/users/@me/tokens", {"name": "more", "scopes": ["gateway"], "expires_in_days": 1}, format="json")
    assert (grab.status_code, grab.json()["error"]["code"]) == (403, "missing_scope")

    ApiToken.objects.filter(user=user, scopes=["read"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = with_token(reader).get("/api/guilds")
    assert (expired.status_code, expired.json()["error"]["code"]) == (401, "authentication_failed")
    assert expired["WWW-Authenticate"] == "Token"

    session = APIClient()
    session.force_login(user)
    made = session.post("/api/users/@me/tokens", {"name": "ci", "scopes": ["read"], "expires_in_days": 7},
                        format="json").json()
    assert made["secret"].startswith("smartc_") and made["scopes"] == ["read"]
    listed = session.get("/api/users/@me/tokens").json()
    assert "secret" not in json.dumps(listed)
    assert made["id"] in [t["id"] for t in listed]
    assert session.delete(f"/api/users/@me/tokens/{made['id']}").status_code == 204
    assert with_token(made["secret"]).get("/api/users/@me").status_code == 401
    assert made["id"] not in [t["id"] for t in session.get("/api/users/@me/tokens").json()]
    assert session.delete(f"/api/users/@me/tokens/{made['id']}").status_code == 404


@pytest.mark.parametrize("body", [
    {"name": "x", "scopes": ["admin"], "expires_in_days": 7},
    {"name": "x", "scopes": [], "expires_in_days": 7},
    {"name": "x", "scopes": ["read"], "expires_in_days": 100000},
    {"name": "", "scopes": ["read"], "expires_in_days": 7},
    {"name": "x" * 65, "scopes": ["read"], "expires_in_days": 7},
])
def test_bad_token_requests_get_a_clear_400_and_make_nothing(user, body):
    session = APIClient()
    session.force_login(user)
    response = session.post("/api/users/@me/tokens", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]
    assert not ApiToken.objects.exists()


def test_gateway_tokens_need_the_gateway_scope_and_close_when_revoked(user, guild):
    live = api_token(user, scopes=["gateway"])
    no_gateway = api_token(user, scopes=["read", "write"])
    expired = api_token(user, scopes=["gateway"])
    ApiToken.objects.filter(pk=ApiToken.objects.order_by("-id").first().pk).update(  # the last one made
        expires_at=timezone.now() - timedelta(seconds=1))
    with running_server() as base:
        with gateway(base, token=no_gateway) as ws:
            error = json.loads(ws.recv(timeout=10))
            assert (error["op"], error["d"]["code"]) == (9, "missing_scope")
            assert close_code(ws) == 4003
        with gateway(base, token=expired) as ws:
            assert json.loads(ws.recv(timeout=10))["d"]["code"] == "authentication_failed"
            assert close_code(ws) == 4003
        with gateway(base, token=live) as ws:
            frames_until_ready(ws)
            token = ApiToken.objects.get(user=user, scopes=["gateway"], expires_at__gt=timezone.now())
            session = APIClient()
            session.force_login(user)
            assert session.delete(f"/api/users/@me/tokens/{token.id}").status_code == 204
            assert close_code(ws) == 4003


def test_a_password_change_signs_the_other_browsers_out_and_the_list_shows_live_sessions_only(user):
    laptop, phone = browser(user, FIREFOX), browser(user, SAFARI)
    response = laptop.post("/accounts/password", {"old_password": PASSWORD, "new_password": "fresh-and-long-88"})
    assert response.status_code == 302
    assert phone.get("/accounts/profile").status_code == 302
    page = laptop.get("/accounts/sessions").content.decode()  # the laptop's key changed with the password
    assert page.count('class="session-row"') == 1 and "this session" in page


def test_signing_in_to_the_api_again_and_again_keeps_the_ten_latest_tokens(user):
    def sign_in():
        return APIClient().post("/api/auth/token", {"username": user.username, "password": PASSWORD},
                                format="json").json()["token"]

    secrets = [sign_in() for _ in range(12)]
    assert [with_token(s).get("/api/users/@me").status_code for s in secrets] == [401] * 2 + [200] * 10
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=True).count() == 10
