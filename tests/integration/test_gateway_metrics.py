"""What an operator reads on a gateway process's /metrics (apps/realtime/metrics.py), on a real uvicorn
process: its sockets, the hub's deliveries and their latency, slow readers closed; and the alert rules
and Grafana dashboards in docker/ query only metrics that the process exposes."""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from apps.core import bus
from apps.core.events import guild_group
from apps.realtime.protocol import Close
from tests.integration.test_gateway import text_channel
from tests.integration.test_gateway_hub import RawSocket
from tests.integration.test_gateway_server import api, gateway
from tests.servers import running_server

pytestmark = pytest.mark.django_db(transaction=True)

DOCKER = Path(__file__).resolve().parents[2] / "docker"
NAMES = re.compile(r"\b(?:smartc_gateway|django_http|process)_[a-z0-9_]+\b")
LATENCY = "smartc_gateway_broadcast_latency_seconds"


class Metrics:
    """One scrape of a process's /metrics: sample name and labels → value."""

    def __init__(self, base: str):
        with urllib.request.urlopen(base + "/metrics", timeout=10) as resp:
            assert resp.status == 200
            self.text = resp.read().decode()
        self.samples = {(s.name, frozenset(s.labels.items())): s.value
                        for family in text_string_to_metric_families(self.text) for s in family.samples}

    def __call__(self, name: str, **labels) -> float:
        return self.samples[(name, frozenset(labels.items()))]

    @property
    def names(self) -> set[str]:
        return {name for name, _ in self.samples}


def until(base: str, check, timeout: float = 10) -> Metrics:
    """Scrape until `check(metrics)` holds (closing a socket ends its connection a moment later)."""
    deadline = time.monotonic() + timeout
    while not check(m := Metrics(base)):
        assert time.monotonic() < deadline, "the metrics did not reach the expected values"
        time.sleep(0.1)
    return m


def settled(base: str) -> Metrics:
    """Scrape once the presence updates that follow a connection (batched, then published through
    the hub) are through: the latency histogram no longer moves."""
    last = Metrics(base)
    deadline = time.monotonic() + 10
    while True:
        time.sleep(0.4)
        m = Metrics(base)
        if m(LATENCY + "_count") == last(LATENCY + "_count"):
            return m
        assert time.monotonic() < deadline, "hot events kept arriving"
        last = m


def test_metrics_follow_the_sockets_and_the_messages_of_a_gateway_process(guild, owner, alice):
    general = text_channel(guild)
    with running_server(server="uvicorn") as base:
        start = Metrics(base)
        assert start("smartc_gateway_connections") == 0
        assert start("smartc_gateway_hub_groups") == 0
        with gateway(base, ready=False) as anonymous:
            assert anonymous.close_code() == Close.NOT_AUTHENTICATED
        with gateway(base, alice) as on_alice, gateway(base, owner) as on_owner:
            before = settled(base)
            assert before("smartc_gateway_connections") == 2
            # Each user's group and the guild's: no group per socket (signing out reaches a socket
            # through its user's group).
            assert before("smartc_gateway_hub_groups") == 3
            assert before("smartc_gateway_ready_seconds_count") == 2
            assert 0 < before("smartc_gateway_ready_seconds_sum") < 10
            refused = before("smartc_gateway_handshakes_refused_total", reason="not_authenticated")
            assert refused - start("smartc_gateway_handshakes_refused_total", reason="not_authenticated") == 1

            status, posted = api(base, owner, "POST", f"/api/channels/{general.id}/messages", {"content": "hi"})
            assert status == 201
            assert on_alice.event("MESSAGE_CREATE")["id"] == on_owner.event("MESSAGE_CREATE")["id"] == posted["id"]
            after = Metrics(base)
            delivered = "smartc_gateway_deliveries_total"
            assert after(delivered, event="MESSAGE_CREATE") - before(delivered, event="MESSAGE_CREATE") == 2
            assert after(LATENCY + "_count") - before(LATENCY + "_count") == 1
            assert 0 <= after(LATENCY + "_sum") - before(LATENCY + "_sum") < 5
            assert after(LATENCY + "_bucket", le="5.0") - before(LATENCY + "_bucket", le="5.0") == 1
        closed = until(base, lambda m: m("smartc_gateway_connections") == 0)
        assert closed("smartc_gateway_hub_groups") == 0
        assert closed("smartc_gateway_slow_closes_total") == 0


def test_a_stalled_reader_closed_as_too_slow_is_counted(guild, alice):
    general = text_channel(guild)
    count, blob = 600, "x" * 16_000
    with running_server(server="uvicorn", env={"GATEWAY_MAX_BACKLOG": "50"}) as base:
        assert Metrics(base)("smartc_gateway_slow_closes_total") == 0
        slow = RawSocket(base, alice)
        try:
            assert slow.text()["op"] == 10
            assert slow.text()["t"] == "READY"
            for i in range(count):  # unread all along
                bus.send([guild_group(guild.id)], "MESSAGE_CREATE",
                            {"guild_id": guild.id, "channel_id": general.id, "id": i, "content": blob})
                time.sleep(0.002)
            received, code = slow.until_closed()
        finally:
            slow.close()
        assert code == Close.TOO_SLOW
        assert len(received) < count
        m = until(base, lambda m: m("smartc_gateway_connections") == 0)
        assert m("smartc_gateway_slow_closes_total") == 1
        assert m(LATENCY + "_count") >= len(received)


def test_a_production_gateway_answers_scrapes_addressed_to_its_own_address():
    """Prometheus finds the replicas through DNS and scrapes each by address: the Host header is an
    address no one configures, which the container allows for itself (and nothing else)."""
    own = socket.gethostbyname_ex(socket.gethostname())[2][0]
    env = {"DJANGO_SETTINGS_MODULE": "smartc.settings.prod", "SECRET_KEY": "s" * 50,
           "ALLOWED_HOSTS": "smartc.example.com", "ALLOWED_HOSTS_OWN_ADDRESSES": "true"}
    with running_server(server="uvicorn", env=env) as base:
        port = base.rsplit(":", 1)[1]

        def scrape_as(host: str) -> int:
            req = urllib.request.Request(base + "/metrics", headers={"Host": f"{host}:{port}"})
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    assert b"smartc_gateway_connections" in resp.read()
                    return resp.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert scrape_as(own) == 200
        assert scrape_as("smartc.example.com") == 200
        assert scrape_as("10.255.255.254") == 400


def expressions(node) -> list[str]:
    """Every `expr` in a dashboard or rules document."""
    if isinstance(node, dict):
        return [e for k, v in node.items() for e in ([v] if k == "expr" else expressions(v))]
    if isinstance(node, list):
        return [e for v in node for e in expressions(v)]
    return []


def test_alert_rules_and_dashboards_query_only_metrics_the_gateway_exposes(guild, alice):
    dashboards = {p.name: json.loads(p.read_text()) for p in sorted((DOCKER / "grafana/dashboards").glob("*.json"))}
    rules = yaml.safe_load((DOCKER / "prometheus-alerts.yml").read_text())
    used = {n for e in expressions([rules, *dashboards.values()]) for n in NAMES.findall(e)}
    gateway_panels = {n for e in expressions(dashboards["gateway.json"]) for n in NAMES.findall(e)}
    assert {"smartc_gateway_connections", "smartc_gateway_hub_groups", "smartc_gateway_deliveries_total",
            "smartc_gateway_slow_closes_total", "smartc_gateway_resume_closes_total", LATENCY + "_bucket",
            "smartc_gateway_ready_seconds_bucket", "process_resident_memory_bytes"} <= gateway_panels
    with running_server(server="uvicorn") as base, gateway(base, alice):
        api(base, alice, "GET", "/api/users/@me")  # django-prometheus labels a series on its first request
        exposed = Metrics(base).names
    assert used - exposed == set()


def test_the_alert_rules_are_loaded_by_prometheus_and_name_the_expected_alerts():
    rules = yaml.safe_load((DOCKER / "prometheus-alerts.yml").read_text())
    alerts = {r["alert"]: r for group in rules["groups"] for r in group["rules"] if "alert" in r}
    assert set(alerts) == {"GatewayFanoutSlow", "GatewaySendErrors", "GatewayMemoryHigh", "HttpErrorRate"}
    for name, rule in alerts.items():
        assert rule["for"] == "5m", name
        assert rule["labels"]["severity"] and rule["annotations"]["summary"], name
    assert "> 0.3" in alerts["GatewayFanoutSlow"]["expr"]
    assert "> 0.01" in alerts["GatewaySendErrors"]["expr"] and "> 0.01" in alerts["HttpErrorRate"]["expr"]
    # Prometheus reads the file where compose mounts it, and finds every gateway replica through DNS.
    prometheus = yaml.safe_load((DOCKER / "prometheus.yml").read_text())
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    mounts = dict(v.split(":")[:2][::-1] for v in compose["services"]["prometheus"]["volumes"])
    assert [mounts[path] for path in prometheus["rule_files"]] == ["./prometheus-alerts.yml"]
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    assert jobs["smartc-gateway"]["dns_sd_configs"] == [{"names": ["gateway"], "type": "A", "port": 8001,
                                                         "refresh_interval": "15s"}]
