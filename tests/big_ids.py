"""Ids past what an id column holds (2**63-1), sent wherever a client can send an id: each integer
field of each query string and JSON body the OpenAPI schema documents, the snowflakes of /api/v10/
and the ids of the gateway's client ops. SQLite cannot hold such a number and raises OverflowError
when a query is given one (a 500 under `make run`); PostgreSQL finds nothing. Either way the client
gets the field's 400 (or an unknown thing's 404), never a 500. The sweep runs against `make run`
(tests/integration/test_make_run.py) and PostgreSQL (tests/integration/test_odd_input.py)."""
from __future__ import annotations

import re
from collections.abc import Callable

MAX_ID = 2**63 - 1
HUGE_IDS = (99999999999999999999, 2**63)
# An input field that carries an id, by its name in a body ("reply_to", "roles[]") or a query.
ID_FIELD = re.compile(r"(^|[._])(id|ids|reply_to|order|roles|before|after|around)(\[\])?$")


def _filler(schema: dict, resolve):
    """A value the schema accepts, for the fields beside the one under test."""
    schema = resolve(schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return {"date-time": "2030-01-01T00:00:00Z", "uri": "https://example.com/", "email": "a@example.com",
                "date": "2030-01-01"}.get(schema.get("format"), "x" * max(1, schema.get("minLength", 1)))
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    if kind == "number":
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    return {}


def _integer_paths(schema: dict, resolve, here: str = "", depth: int = 0):
    """(where, schema) of each integer in an instance of `schema`: "" (the value itself), ".name", "[]"."""
    schema = resolve(schema)
    if depth > 4 or schema.get("readOnly"):
        return
    for sub in schema.get("allOf", []) + schema.get("oneOf", []) + schema.get("anyOf", []):
        yield from _integer_paths(sub, resolve, here, depth + 1)
    if schema.get("type") == "integer":
        yield here, schema
    if schema.get("type") == "array":
        yield from _integer_paths(schema.get("items", {}), resolve, here + "[]", depth + 1)
    for name, sub in (schema.get("properties") or {}).items():
        yield from _integer_paths(sub, resolve, f"{here}.{name}", depth + 1)


def _instance(schema: dict, resolve, target: str, value, here: str = ""):
    """An instance of `schema` with `value` at `target` and fillers in the other required fields."""
    schema = resolve(schema)
    if here == target:
        return value
    merged = {**schema}
    for sub in schema.get("allOf", []):
        sub = resolve(sub)
        merged["properties"] = {**merged.get("properties", {}), **sub.get("properties", {})}
        merged["required"] = merged.get("required", []) + sub.get("required", [])
        merged.setdefault("type", sub.get("type"))
    if merged.get("type") == "array":
        inside = target.startswith(here + "[]")
        return [_instance(merged.get("items", {}), resolve, target, value, here + "[]")] if inside else []
    if "properties" in merged:
        out = {}
        for name, sub in merged["properties"].items():
            path = f"{here}.{name}"
            if target == path or target.startswith(path + ".") or target.startswith(path + "["):
                out[name] = _instance(sub, resolve, target, value, path)
            elif name in merged.get("required", []):
                out[name] = _filler(sub, resolve)
        return out
    return _filler(merged, resolve)


def schema_cases(doc: dict, known: dict) -> list[tuple]:
    """(method, path under /api, params, json, field, its schema) with a huge number in each integer
    field of each query and JSON body the schema documents, on the operations whose path parameters
    `known` names."""
    components = doc["components"]["schemas"]

    def resolve(schema):
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    cases = []
    for template, item in doc["paths"].items():
        names = re.findall(r"\{(\w+)\}", template)
        if not all(n in known for n in names):
            continue
        path = template.format(**{n: known[n] for n in names}).removeprefix("/api")
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            for parameter in operation.get("parameters", []):
                for _, schema in _integer_paths(parameter["schema"], resolve) if parameter["in"] == "query" else ():
                    cases += [(method.upper(), path, {parameter["name"]: str(huge)}, None, parameter["name"], schema)
                              for huge in HUGE_IDS]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            for target, schema in _integer_paths(body["schema"], resolve) if body else ():
                cases += [(method.upper(), path, None, _instance(body["schema"], resolve, target, huge), target, schema)
                          for huge in HUGE_IDS]
    return cases


def unbounded_ids(cases: list[tuple]) -> set[tuple]:
    """The id fields among schema_cases() whose schema does not say they stop at MAX_ID."""
    return {(method, path, field) for method, path, _, _, field, schema in cases
            if ID_FIELD.search(field) and schema.get("maximum") != MAX_ID}


def api_cases(doc: dict, known: dict) -> list[tuple]:
    """(method, path under /api, params, json, field): schema_cases(), plus the ids the schema types
    as text (search's before/after take a message id or a date, also in the words searched)."""
    search = f"/guilds/{known['guild_id']}/messages/search"
    return ([case[:5] for case in schema_cases(doc, known)]
            + [("GET", search, {name: str(huge)}, None, name) for huge in HUGE_IDS for name in ("before", "after")]
            + [("GET", search, {"q": f"hi before:{huge}"}, None, "before") for huge in HUGE_IDS])


def discord_cases(guild: int, channel: int) -> list[tuple]:
    """(method, path under /api/v10, params, json): Discord's snowflakes, as numbers and as strings."""
    huge = HUGE_IDS[0]
    return [("GET", f"/guilds/{huge}", None, None), ("GET", f"/guilds/{guild}/members/{huge}", None, None),
            ("GET", f"/channels/{channel}/messages/{huge}", None, None), ("GET", f"/users/{huge}", None, None),
            *[("GET", f"/channels/{channel}/messages", {k: huge}, None) for k in ("before", "after", "around")],
            ("GET", "/users/@me/guilds", {"after": huge}, None),
            ("GET", f"/guilds/{guild}/members", {"after": huge}, None),
            *[("POST", f"/channels/{channel}/messages", None,
               {"content": "hi", "message_reference": {"message_id": ref}}) for ref in (huge, str(huge))],
            *[("POST", "/users/@me/channels", None, {"recipient_id": ref}) for ref in (huge, str(huge))]]


def gateway_frames(guild: int, channel: int) -> list[tuple[int, dict]]:
    """Each id of each op a client sends, past MAX_ID, one at a time (the other fields right)."""
    huge = HUGE_IDS[0]
    return [(4, {"channel_id": huge}),
            (6, {"channel_id": huge, "content": "hi"}), (6, {"channel_id": channel, "content": "hi", "reply_to": huge}),
            (6, {"channel_id": channel, "content": "hi", "attachment_ids": [huge]}),
            (7, {"channel_id": huge, "message_id": 1}), (7, {"channel_id": channel, "message_id": huge}),
            (8, {"guild_id": huge}), (14, {"guild_id": huge}),
            (12, {"guild_id": huge, "channel_id": None}), (12, {"guild_id": guild, "channel_id": huge}),
            (13, {"to": huge, "type": "offer", "sdp": "x"}),
            (15, {"action": "play", "track_id": huge}), (15, {"action": "queue", "queue": [huge]})]


Send = Callable[[str, str, dict | None, object], tuple[int, str, object]]  # → (status, content type, json)


def api_failures(send: Send, cases: list[tuple]) -> list[tuple]:
    """The cases SmaRTC's API answered with a 5xx, not in JSON, with a 400 that names no field, or,
    for an id, with success (as if nothing were wrong with it: PostgreSQL finds nothing, say)."""
    failures = []
    for method, path, params, body, field in cases:
        status, content_type, answer = send(method, path, params, body)
        if status >= 500 or not content_type.startswith("application/json"):
            failures.append((method, path, params or body, status))
        elif status == 400 and not answer["error"]["fields"]:
            failures.append((method, path, params or body, "a 400 naming no field", answer))
        elif status < 400 and ID_FIELD.search(field):
            failures.append((method, path, params or body, status, "an id no column holds, taken"))
    return failures


def discord_failures(send: Send, cases: list[tuple]) -> list[tuple]:
    """The cases /api/v10/ answered with a 5xx, or with an error not in Discord's {"code", "message"}."""
    failures = []
    for method, path, params, body in cases:
        status, content_type, answer = send(method, path, params, body)
        if status >= 500 or status >= 400 and not (isinstance(answer, dict) and {"code", "message"} <= set(answer)):
            failures.append((method, path, params or body, status, answer))
    return failures
