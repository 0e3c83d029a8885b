"""TURN credentials follow coturn's REST scheme (`use-auth-secret`): coturn accepts exactly the
password it recomputes from the username and its own copy of the secret."""
import base64
import hashlib
import hmac
import time

from apps.rtc import turn


def coturn_password(secret: str, username: str) -> str:
    """What coturn computes for a username (turnserver's `use-auth-secret`)."""
    return base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()


def test_the_credential_is_what_coturn_computes_and_expires_after_turn_ttl(settings):
    settings.TURN_SECRET = "s3cret-shared-with-coturn"
    settings.TURN_TTL = 600
    before = int(time.time())
    creds = turn.turn_credentials(42)
    expiry, user_id = creds["username"].split(":")
    assert user_id == "42"
    assert before + 600 <= int(expiry) <= int(time.time()) + 600
    assert creds["credential"] == coturn_password("s3cret-shared-with-coturn", creds["username"])
    # Another secret (coturn configured differently) would refuse it.
    assert creds["credential"] != coturn_password("another-secret", creds["username"])


def test_a_fixed_clock_gives_the_documented_username(settings):
    settings.TURN_SECRET = "k"
    settings.TURN_TTL = 3600
    creds = turn.turn_credentials(7, now=1_700_000_000)
    assert creds == {"username": "1700003600:7", "credential": coturn_password("k", "1700003600:7")}


def test_ice_servers_add_turn_only_when_configured(settings):
    settings.RTC_ICE_SERVERS = [{"urls": ["stun:stun.example.org:3478"]}]
    settings.TURN_URLS = []
    settings.TURN_SECRET = ""
    assert turn.ice_servers(1) == [{"urls": ["stun:stun.example.org:3478"]}]

    settings.TURN_URLS = ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp"]
    settings.TURN_SECRET = "x"
    settings.TURN_TTL = 60
    stun, relay = turn.ice_servers(9, now=1000)
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert relay == {"urls": settings.TURN_URLS, "username": "1060:9", "credential": coturn_password("x", "1060:9")}
