"""A real receiving end for Web Push in tests: a local push service over HTTP on loopback that
checks each push's VAPID JWT (RFC 8292: ES256 over the server's public key, `aud` the endpoint's
origin, `exp` within a day, `sub`) and a device that subscribes as a browser does (a P-256 key pair
and a 16-byte auth secret) and decrypts what it is sent (RFC 8291, aes128gcm)."""
from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Device:
    """What a browser holds for one subscription: the keys the push is encrypted for."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def subscription(self) -> dict:
        """As PushSubscription.toJSON() gives it."""
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def verify_vapid(authorization: str, *, public_key: str, origin: str, subject: str) -> dict:
    """The claims of a `vapid t=<JWT>, k=<public key>` header, once its signature and claims hold;
    AssertionError otherwise."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid", authorization
    fields = dict(p.strip().split("=", 1) for p in params.split(","))
    assert fields["k"] == public_key, "signed with another key"
    head, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(head)) == {"typ": "JWT", "alg": "ES256"}
    raw = unb64url(signature)
    assert len(raw) == 64
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(public_key))
    try:
        key.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AssertionError("the VAPID JWT's signature does not verify") from exc
    data = json.loads(unb64url(claims))
    assert data["aud"] == origin
    assert time.time() < data["exp"] <= time.time() + 24 * 3600
    assert data["sub"] == subject
    return data


class PushService:
    """A push service on a free loopback port. Each POST to /push/<name> is recorded (headers and
    body) and answered with the next status scripted for that name (default 201): an int, or
    "hang" to answer nothing for `hang_seconds` (a timeout)."""

    def __init__(self, hang_seconds: float = 3.0):
        self.received: list[dict] = []
        self.script: dict[str, list] = {}
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                name = self.path.rsplit("/", 1)[-1]
                with service.lock:
                    queue = service.script.get(name) or []
                    answer = queue.pop(0) if queue else 201
                    service.received.append({"name": name, "headers": dict(self.headers), "body": body,
                                             "answer": answer})
                if answer == "hang":
                    time.sleep(service.hang_seconds)
                    return
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> PushService:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def device(self, name: str, *answers) -> Device:
        """A device subscribed at /push/<name>, whose pushes are answered with `answers` in turn."""
        self.script[name] = list(answers)
        return Device(f"{self.origin}/push/{name}")

    def pushes(self, name: str) -> list[dict]:
        with self.lock:
            return [r for r in self.received if r["name"] == name]

    def wait(self, name: str, count: int = 1, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.pushes(name)) < count:
            assert time.monotonic() < deadline, f"{len(self.pushes(name))} pushes reached {name}, not {count}"
            time.sleep(0.05)
        return self.pushes(name)
