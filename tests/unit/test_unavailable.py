"""Which errors mean "a part is down" (a 503 with Retry-After) and which stay a 500: the one
decision apps/core/unavailable.py makes for the API, the pages, the gateway and the media tasks."""
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.db import IntegrityError, OperationalError
from kombu.exceptions import OperationalError as QueueError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.core import unavailable


def s3_error(status: int) -> ClientError:
    return ClientError({"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")


@pytest.mark.parametrize(("exc", "part"), [
    (RedisConnectionError("refused"), "redis"),
    (RedisTimeoutError("timed out"), "redis"),
    (OperationalError("couldn't get a connection after 10.00 sec"), "database"),
    (QueueError("broker refused"), "queue"),
    (EndpointConnectionError(endpoint_url="http://s3"), "storage"),
    (s3_error(503), "storage"),
    (s3_error(403), None),  # a refusal is not an outage
    (ResponseError("WRONGTYPE"), None),  # a bug talking to Redis stays a 500
    (IntegrityError("duplicate key"), None),
    (ValueError("bad"), None),
])
def test_what_counts_as_a_part_that_is_down(exc, part):
    assert unavailable.dependency(exc) == part


def test_an_error_escaping_a_middleware_is_a_503_page_only_when_a_part_is_down(rf):
    """handler500 runs inside Django's `except`: a database gone while a middleware saved the session
    is a 503 page (the API's shape under /api/); anything else is the usual 500."""
    try:
        raise OperationalError("the database system is shutting down")
    except OperationalError:
        page, api = unavailable.server_error(rf.get("/explore")), unavailable.server_error(rf.get("/api/guilds"))
    assert page.status_code == 503 and page["Retry-After"] == "5" and b"Try again in a moment" in page.content
    assert api.status_code == 503 and api["Content-Type"] == "application/json"
    try:
        raise ValueError("a bug")
    except ValueError:
        assert unavailable.server_error(rf.get("/explore")).status_code == 500
