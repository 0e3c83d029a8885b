"""Every id in a URL is one the database can hold: a larger number is an unknown page (404), never a
query SQLite refuses (`make run`: an OverflowError, a 500)."""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter
from django.urls.exceptions import Resolver404

from apps.core.converters import MAX_ID, IdConverter


def routes(patterns=None, prefix="", converters=None):
    """(route text, its converters by name) for every route of the site, includes followed."""
    for p in get_resolver().url_patterns if patterns is None else patterns:
        found = {**(converters or {}), **getattr(p.pattern, "converters", {})}
        if isinstance(p, URLResolver):
            yield from routes(p.url_patterns, prefix + str(p.pattern), found)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), found


ID_ROUTES = {route: found for route, found in routes() if any(name.endswith("_id") for name in found)}


def test_no_id_in_a_url_is_read_as_a_plain_int():
    assert sum(isinstance(c, IdConverter) for found in ID_ROUTES.values() for c in found.values()) > 100
    for route, found in ID_ROUTES.items():
        for name, converter in found.items():
            if name.endswith("_id"):  # (the admin's own ids are text it parses itself)
                assert not isinstance(converter, IntConverter), f"{route}: <int:{name}> should be <id:{name}>"


def fill(route: str, values: dict) -> str:
    return "/" + re.sub(r"<(\w+):(\w+)>", lambda m: str(values.get(m[2], 64 if m[1] == "int" else "x")), route)


@pytest.mark.parametrize("route", sorted(ID_ROUTES))
def test_an_id_past_what_the_database_holds_matches_no_route(route):
    names = [name for name, c in ID_ROUTES[route].items() if isinstance(c, IdConverter)]
    widest = resolve(fill(route, dict.fromkeys(names, MAX_ID)))
    assert all(widest.kwargs[name] == MAX_ID for name in names)
    for name in names:
        ids = dict.fromkeys(names, 1)
        for too_big in (MAX_ID + 1, 10**19 - 1, 10**20):
            with pytest.raises(Resolver404):
                resolve(fill(route, {**ids, name: too_big}))
