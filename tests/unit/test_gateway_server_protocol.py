"""The gateway's uvicorn protocol (apps/realtime/server.py) and the hub agree on the name of the
synchronous write they share; the module loads before Django is set up, as uvicorn imports it."""
import subprocess
import sys

from apps.realtime import hub, server


def test_the_server_offers_the_write_under_the_name_the_hub_looks_for():
    assert server.SEND_TEXT == hub.SEND_TEXT


def test_the_protocol_module_imports_without_django_set_up():
    done = subprocess.run([sys.executable, "-c", "import apps.realtime.server"], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode == 0, done.stderr
