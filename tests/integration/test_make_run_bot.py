"""`make run`'s demo bot: the demo data prints a token on a line with the words "bot token", and
that token signs the demo bot in to the Discord-compatible REST API and gateway of the platform
served exactly as `make run` serves it."""
from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests
from websockets.sync.client import connect

from tests import servers


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("make-run-bot")
    env = servers.make_run_env(folder)
    done = subprocess.run(["make", "--no-print-directory", "migrate", "demo"], cwd=servers.ROOT, env=env,
                          check=True, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if "bot token" in line]
    assert len(lines) == 1, done.stdout
    token = re.search(r"bot token: (\S+)", lines[0]).group(1)
    with servers.running_server(make_run=env) as base:
        yield base, token


def test_the_printed_demo_bot_token_works_on_rest_and_the_gateway(demo):
    base, token = demo
    me = requests.get(f"{base}/api/v10/users/@me", headers={"Authorization": f"Bot {token}"}, timeout=30)
    assert me.status_code == 200 and me.json()["bot"] is True
    guilds = requests.get(f"{base}/api/v10/users/@me/guilds", headers={"Authorization": f"Bot {token}"}, timeout=30)
    assert [g["name"] for g in guilds.json()] == ["SmaRTC Lounge"]
    with connect(base.replace("http://", "ws://") + "/gateway/discord?v=10&encoding=json", open_timeout=30) as ws:
        assert json.loads(ws.recv(timeout=30))["op"] == 10
        ws.send(json.dumps({"op": 2, "d": {"token": token, "intents": (1 << 0) | (1 << 9) | (1 << 15)}}))
        ready = json.loads(ws.recv(timeout=30))
        assert ready["t"] == "READY"
        guild = json.loads(ws.recv(timeout=30))
        assert guild["t"] == "GUILD_CREATE" and guild["d"]["name"] == "SmaRTC Lounge"
        assert {"general", "music"} <= {c["name"] for c in guild["d"]["channels"]}
