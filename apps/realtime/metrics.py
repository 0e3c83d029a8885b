"""The gateway's Prometheus metrics, per process: every gateway process serves its own on /metrics
(django-prometheus' view reads the default registry) and Prometheus scrapes each one.

docs/production.md says what each one means; the alert rules (docker/prometheus-alerts.yml) and
the Grafana dashboard (docker/grafana/dashboards/gateway.json) use these names, and a test checks
that every name they use is exposed.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from apps.core import bus

CONNECTIONS = Gauge("smartc_gateway_connections", "Open gateway WebSocket connections in this process.")
HUB_GROUPS = Gauge("smartc_gateway_hub_groups",
                   "Groups (guilds, users) with local members in this process: one Redis subscription each.")
DELIVERIES = Counter("smartc_gateway_deliveries", "Event frames the hub queued for local connections.",
                     ["event"])
SLOW_CLOSES = Counter("smartc_gateway_slow_closes",
                      "Connections closed with 4011: their backlog passed GATEWAY_MAX_BACKLOG frames.")
RESUME_CLOSES = Counter("smartc_gateway_resume_closes",
                        "Connections asked to reconnect and resume (4012) after the hub lost Redis.")
SEND_ERRORS = Counter("smartc_gateway_send_errors", "Frames that could not be written to their socket.")
HANDSHAKES_REFUSED = Counter("smartc_gateway_handshakes_refused", "WebSocket handshakes the gateway refused.",
                             ["reason"])
BROADCAST_LATENCY = Histogram(
    "smartc_gateway_broadcast_latency_seconds",
    "From an event's publication (the publisher's wall clock) to the moment this process has queued it "
    "for all its local members.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
READY_SECONDS = Histogram(
    "smartc_gateway_ready_seconds", "From a connection's accept to its READY frame queued.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

OTHER = "other"  # the event label of a type the bus does not meter, so the label stays bounded

NOT_AUTHENTICATED = "not_authenticated"
TOO_MANY_CONNECTIONS = "too_many_connections"  # the user's sockets on this node reached the cap
for _reason in (NOT_AUTHENTICATED, TOO_MANY_CONNECTIONS):
    HANDSHAKES_REFUSED.labels(_reason)


def count_events() -> None:
    """Create the series of the event types that get their own `event` label (the busiest events,
    named by their apps through apps.core.bus.meter), so rates and alerts see a zero rather than
    nothing. The hub calls it when it starts serving sockets."""
    for t in (*bus.metered(), OTHER):
        DELIVERIES.labels(t)


def delivered(t: str, frames: int) -> None:
    DELIVERIES.labels(t if bus.is_metered(t) else OTHER).inc(frames)
