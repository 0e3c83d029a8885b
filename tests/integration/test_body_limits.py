"""Bodies over an endpoint's limit get 413 in the API's error shape before they are read: through
the ASGI application (any server), a real uvicorn server, Django's own bounds, and nginx's limits
kept equal to the app's."""
import asyncio
import json
import re
import socket
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smartc.asgi import application
from tests.factories import add_member_with
from tests.servers import running_server

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024


def call(path, *, headers=(), chunks=None, method="POST"):
    """Runs one HTTP request through the ASGI application; returns (status, headers, body, bytes the
    application took from the client). `chunks` is the body; None means an endless stream."""
    taken = 0
    feed = list(chunks) if chunks is not None else None
    sent = []

    async def receive():
        nonlocal taken
        if feed is None:
            taken += MB
            return {"type": "http.request", "body": b"x" * MB, "more_body": True}
        if not feed:
            await asyncio.sleep(3600)  # the body was all sent: the client waits for its answer
        chunk = feed.pop(0)
        taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(feed)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("testserver", 80)}

    async def run():
        await asyncio.wait_for(application(scope, receive, send), timeout=30)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body, taken


def declared(n):
    return [(b"content-length", str(n).encode()), (b"content-type", b"application/json")]


def test_an_api_body_declared_too_large_is_refused_unread(settings):
    status, headers, body, taken = call("/api/guilds", headers=declared(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
                                        chunks=[])
    assert status == 413 and taken == 0
    assert headers[b"content-type"] == b"application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "request_too_large" and error["message"] == "The request is too large: at most 10 MB."


def test_a_streamed_body_is_cut_off_at_the_limit(settings):
    status, _, body, taken = call("/api/guilds", headers=[(b"content-type", b"application/json")])
    assert status == 413
    assert json.loads(body)["error"]["code"] == "request_too_large"
    assert taken <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE + MB


def test_an_upload_endpoint_has_its_own_limit_and_error(settings):
    limit = settings.ATTACHMENT_MAX_BYTES + 64 * 1024
    status, _, body, taken = call("/api/channels/1/attachments", headers=declared(limit + 1), chunks=[])
    assert (status, taken) == (413, 0)
    assert json.loads(body)["error"]["code"] == "file_too_large"
    # Under its limit (but over the general one) the body goes on to the view (here: no login).
    status, _, body, _ = call("/api/channels/1/attachments", headers=declared(limit - 1),
                              chunks=[b"x" * (limit - 1)])
    assert status == 401


def test_a_page_gets_a_plain_413_in_the_visitors_language(settings):
    headers = [*declared(settings.DATA_UPLOAD_MAX_MEMORY_SIZE * 2), (b"accept-language", b"fr")]
    status, response_headers, body, taken = call("/accounts/login", headers=headers, chunks=[])
    assert (status, taken) == (413, 0)
    assert response_headers[b"content-type"].startswith(b"text/plain")
    assert body.decode() == "La requête est trop grande : 10 Mo au plus."


def test_a_body_within_the_limit_is_served(settings):
    status, _, body, _ = call("/api/auth/token", headers=declared(7), chunks=[b"{broken"])
    assert status == 400
    assert json.loads(body)["error"]["code"] == "parse_error"


@pytest.mark.django_db(transaction=True)
def test_uvicorn_answers_413_without_waiting_for_the_body(settings):
    """A client announces 50 MB and sends a few bytes: the answer comes at once (a server that read
    the body first would wait for the rest)."""
    with running_server(server="uvicorn") as url:
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /api/guilds HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 52428800\r\n\r\n{\"name\": ")
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_too_large_form_fields_of_an_upload_get_413_in_the_api_shape(api_as, guild, settings):
    """Django's own bound on the non-file part of a body (met under a WSGI server, or by an
    upload's fields) gives the API's 413, not Django's 400 page."""
    from apps.guilds.permissions import Permission

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    member = add_member_with(guild, Permission.SEND_MESSAGES | Permission.ATTACH_FILES | Permission.VIEW_CHANNEL)
    channel = guild.channels.first()
    response = api_as(member.user).post(f"/api/channels/{channel.id}/attachments",
                                        {"note": "x" * 5000, "file": SimpleUploadedFile("a.txt", b"hello")},
                                        format="multipart")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def nginx_limits() -> dict[str, int]:
    """client_max_body_size per location of docker/nginx.conf, in bytes ("" for the server's)."""
    units = {"": 1, "k": 1024, "m": MB}
    limits, location = {}, ""
    for line in (ROOT / "docker/nginx.conf").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if match := re.match(r"location\s+(?:~\s+)?(\S+)\s*\{", line):
            location = match.group(1)
        elif line == "}":
            location = ""
        elif match := re.match(r"client_max_body_size\s+(\d+)([km]?);", line):
            limits[location] = int(match.group(1)) * units[match.group(2)]
    return limits


def test_nginx_refuses_exactly_what_the_app_refuses(settings):
    from apps.core.bodylimit import limit_for

    limits = nginx_limits()
    assert limits[""] == limit_for("/api/guilds") == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limits[r"^/api/guilds/[0-9]+/tracks$"] == limit_for("/api/guilds/7/tracks")
    assert limits[r"^/api/channels/[0-9]+/attachments$"] == limit_for("/api/channels/7/attachments")
    files_with_message = limits[r"^/api/(v10/channels/[0-9]+/messages|(v10/)?webhooks/[0-9]+/[^/]+)$"]
    for path in ("/api/v10/channels/7/messages", "/api/webhooks/7/tok", "/api/v10/webhooks/7/tok"):
        assert files_with_message == limit_for(path) == limit_for("/api/channels/7/attachments"), path
    # Pages with an image field fit under the general limit.
    assert limit_for("/accounts/profile") <= limits[""]
    assert limit_for("/guilds/7/settings") <= limits[""]
