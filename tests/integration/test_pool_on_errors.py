"""A request that ends in an error gives its pooled database connection back, even when building
the error page fails as well. Under the dev server (DEBUG's error page) a lone surrogate in a title
used to take one connection per request until every request waited out the pool's timeout."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator
from django.db import connection, connections
from django.http import HttpResponse
from django.urls import path

from smartc.asgi import application
from tests.factories import api_token
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)


def call(base: str, token: str, method: str, path_: str, body: str | None = None) -> tuple[int, float]:
    request = urllib.request.Request(base + path_, method=method, data=body.encode() if body else None,
                                     headers={"Authorization": f"Token {token}", "Content-Type": "application/json"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, time.monotonic() - started


def test_odd_text_under_the_dev_server_leaves_the_pool_whole(user):
    token = api_token(user)
    env = {"DEBUG": "true", "DB_POOL_MIN_SIZE": "1", "DB_POOL_MAX_SIZE": "2", "DB_POOL_TIMEOUT": "3"}
    with running_server(server="daphne", env=env) as base:
        for title in ["a\\ud800", "\\udfff", "b\\u0000"] * 3:
            status, _ = call(base, token, "POST", "/api/playlists", f'{{"title": "{title}"}}')
            assert status == 400
        for _ in range(3):  # more requests than the pool holds: each needs a connection back
            status, seconds = call(base, token, "GET", "/api/playlists")
            assert status == 200 and seconds < 2.5


# --- an error page that fails too ----------------------------------------------------------------

def reads_then_fails(request):
    from django.contrib.auth import get_user_model

    get_user_model().objects.exists()  # the request's thread holds a pooled connection now
    raise RuntimeError("the view failed")


def error_page_fails_too(request):
    raise RuntimeError("and so did its error page")


def fine(request):
    return HttpResponse(json.dumps({"users": connection.cursor() is not None}), content_type="application/json")


urlpatterns = [path("boom", reads_then_fails), path("fine", fine)]
handler500 = error_page_fails_too


def checked_out() -> int:
    stats = connections["default"].pool.get_stats()
    return stats["pool_size"] - stats["pool_available"]


def test_a_request_whose_error_page_fails_still_gets_a_500_and_gives_its_connection_back(settings):
    settings.ROOT_URLCONF = __name__
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    connections["default"].ensure_connection()  # the pool exists and this thread holds one
    before = checked_out()
    for _ in range(4):
        response = async_to_sync(HttpCommunicator(application, "GET", "/boom").get_response)()
        assert response["status"] == 500
    assert checked_out() == before
    assert async_to_sync(HttpCommunicator(application, "GET", "/fine").get_response)()["status"] == 200
