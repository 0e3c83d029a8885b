"""The admin's two-factor login in one step: password and the first valid code from the
authenticator sign in, with no device to pick and no challenge button."""
import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts import services
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.fixture
def staff():
    user = UserFactory(is_staff=True, is_superuser=True)
    services.start_totp_enrolment(user)
    device = TOTPDevice.objects.get(user=user)
    user.recovery_codes = services.confirm_totp(user, token=code_for(device))
    TOTPDevice.objects.filter(user=user).update(last_t=-1)  # the set-up used this step's code
    return user


def log_in(client, user, code):
    return client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD,
                                                      "otp_token": code, "next": "/admin/"})


def test_the_login_page_asks_for_a_code_only(client, staff):
    page = client.get("/admin/login/").content.decode()
    assert 'name="otp_token"' in page
    assert "otp_device" not in page and "Get OTP Challenge" not in page and "otp_challenge" not in page


def test_the_first_valid_code_signs_in(client, staff):
    response = log_in(client, staff, code_for(TOTPDevice.objects.get(user=staff)))
    assert response.status_code == 302, response.content.decode()[:1500]
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_recovery_code_signs_in_too(client, staff):
    response = log_in(client, staff, staff.recovery_codes[0])
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert StaticDevice.objects.get(user=staff).token_set.count() == services.RECOVERY_CODE_COUNT - 1


def test_a_wrong_code_is_refused_clearly(client, staff):
    device = TOTPDevice.objects.get(user=staff)
    wrong = "000000" if code_for(device) != "000000" else "111111"
    page = log_in(client, staff, wrong).content.decode()
    assert "Invalid token" in page and "Please select a device." not in page
    assert client.get("/admin/").status_code == 302


def test_staff_without_an_authenticator_are_told_to_set_one_up(client):
    user = UserFactory(is_staff=True)
    page = log_in(client, user, "123456").content.decode()
    assert "This account has no authenticator: set one up first." in page
    assert "Please select a device." not in page
