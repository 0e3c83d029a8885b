"""Accounts as a person meets them: sign up, log in (with throttling), profile, password, 2FA,
and the admin that stays shut to staff without a second factor."""
import io
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from apps.accounts import services
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrol(client, user) -> list[str]:
    client.force_login(user)
    client.post("/accounts/2fa")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/2fa/enrol", {"token": code_for(device)})
    assert response.status_code == 200
    return re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", response.content.decode())


def test_sign_up_logs_in_and_shows_home(client):
    response = client.post("/accounts/signup", {"username": "newbie", "display_name": "New Bie", "email": "n@e.com",
                                                "password": PASSWORD, "password2": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert "Hello, New Bie" in response.content.decode()
    assert User.objects.get(username="newbie").check_password(PASSWORD)


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "x", "email": "x@example.com", "password": "123", "password2": "123"}, "too short"),
    ({"username": "y", "email": "y@example.com", "password": PASSWORD, "password2": PASSWORD + "x"}, "differ"),
    ({"username": "bad name!", "email": "b@example.com", "password": PASSWORD, "password2": PASSWORD},
     "valid username"),
])
def test_sign_up_errors_are_shown_and_nothing_is_created(client, data, message):
    response = client.post("/accounts/signup", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_usernames_are_unique_without_case(client):
    UserFactory(username="Alice")
    response = client.post("/accounts/signup", {"username": "alice", "email": "a@example.com",
                                                "password": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 400
    assert "taken" in response.content.decode()


def test_login_and_logout(client, user):
    response = client.post("/accounts/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/profile").status_code == 200
    client.post("/accounts/logout")
    assert client.get("/accounts/profile").status_code == 302


def test_login_is_rate_limited_per_username(client, user, settings):
    for _ in range(settings.LOGIN_RATE_LIMIT):
        assert client.post("/accounts/login", {"username": user.username, "password": "wrong"}).status_code == 400
    response = client.post("/accounts/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert client.get("/accounts/profile").status_code == 302  # still not logged in


def test_login_redirects_only_to_local_next(client, user):
    r = client.post("/accounts/login?next=https://evil.example/", {"username": user.username, "password": PASSWORD})
    assert r["Location"] == "/"
    client.logout()
    r = client.post("/accounts/login?next=/explore", {"username": user.username, "password": PASSWORD})
    assert r["Location"] == "/explore"


def test_profile_update_and_avatar_checks(client, user):
    client.force_login(user)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buf, "PNG")
    ok = SimpleUploadedFile("a.png", buf.getvalue(), content_type="image/png")
    r = client.post("/accounts/profile", {"display_name": "Neo", "bio": "hi", "avatar": ok})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Neo" and user.avatar.name.endswith(".png")
    fake = SimpleUploadedFile("b.png", b"not an image at all", content_type="image/png")
    r = client.post("/accounts/profile", {"display_name": "Trinity", "bio": "", "avatar": fake})
    assert r.status_code == 400 and "not a valid image" in r.content.decode()
    user.refresh_from_db()
    assert user.display_name == "Neo"  # nothing half-saved


def test_password_change(client, user):
    client.force_login(user)
    r = client.post("/accounts/password", {"old_password": "nope", "new_password": "another-long-pass-42"})
    assert r.status_code == 400 and "current password is wrong" in r.content.decode()
    r = client.post("/accounts/password", {"old_password": PASSWORD, "new_password": "another-long-pass-42"})
    assert r.status_code == 302
    user.refresh_from_db()
    assert user.check_password("another-long-pass-42")
    assert client.get("/accounts/profile").status_code == 200  # still logged in


def test_two_factor_enrolment_shows_qr_and_gives_recovery_codes(client, user):
    client.force_login(user)
    client.post("/accounts/2fa")
    page = client.get("/accounts/2fa/enrol").content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    r = client.post("/accounts/2fa/enrol", {"token": "000000" if code_for(device) != "000000" else "111111"})
    assert r.status_code == 400 and not services.has_two_factor(user)
    codes = enrol(client, user)
    assert len(codes) == services.RECOVERY_CODE_COUNT
    assert services.has_two_factor(user)


def test_login_with_two_factor_needs_a_code(client, user):
    codes = enrol(client, user)
    client.logout()
    r = client.post("/accounts/login", {"username": user.username, "password": PASSWORD})
    assert r["Location"].startswith("/accounts/login/verify")
    assert client.get("/accounts/profile").status_code == 302  # password alone is not enough
    assert client.post("/accounts/login/verify", {"token": "12345"}).status_code == 400
    time.sleep(1.1)  # django-otp throttles a device for 2**(failures-1) s after a wrong code
    r = client.post("/accounts/login/verify", {"token": codes[0]})
    assert r.status_code == 302
    assert client.get("/accounts/profile").status_code == 200
    # a recovery code works once
    client.logout()
    client.post("/accounts/login", {"username": user.username, "password": PASSWORD})
    assert client.post("/accounts/login/verify", {"token": codes[0]}).status_code == 400
    assert StaticToken.objects.filter(device__user=user).count() == services.RECOVERY_CODE_COUNT - 1


def test_disable_two_factor_needs_a_code(client, user):
    enrol(client, user)
    r = client.post("/accounts/2fa/manage", {"token": "000000", "action": "disable"})
    assert r.status_code == 400 and services.has_two_factor(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    device.last_t = -1  # allow the current step again for this test
    device.save()
    r = client.post("/accounts/2fa/manage", {"token": code_for(device), "action": "disable"})
    assert r.status_code == 302 and not services.has_two_factor(user)


def test_admin_is_closed_to_staff_without_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    r = client.get("/admin/")
    assert r.status_code == 302 and "/admin/login/" in r["Location"]
    # The admin login form asks for the password *and* an OTP token.
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in page
    r = client.post("/admin/login/", {"username": staff.username, "password": PASSWORD, "otp_token": ""})
    assert client.get("/admin/").status_code == 302


def test_admin_opens_after_second_factor(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enrol(client, staff)  # confirming the device verifies this session, as logging in with a code would
    r = client.get("/admin/")
    assert r.status_code == 200 and "SmaRTC administration" in r.content.decode()
    for url in ["/admin/guilds/guild/", "/admin/guilds/member/", "/admin/guilds/role/", "/admin/guilds/channel/",
                "/admin/guilds/invite/", "/admin/guilds/ban/", "/admin/guilds/auditlogentry/",
                "/admin/accounts/user/", "/admin/guilds/permissionoverwrite/", "/admin/guilds/category/"]:
        assert client.get(url).status_code == 200, url


def test_admin_login_form_accepts_password_and_code(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    enrol(client, staff)
    client.logout()
    device = TOTPDevice.objects.get(user=staff, confirmed=True)
    device.last_t = -1
    device.save()
    r = client.post("/admin/login/?next=/admin/", {
        "username": staff.username, "password": PASSWORD, "otp_device": device.persistent_id,
        "otp_token": code_for(device), "next": "/admin/"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
