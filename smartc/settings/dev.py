"""`make run`: a laptop with embedded defaults unless the environment says otherwise."""
import os
from pathlib import Path

import environ

# DEBUG stays off: a visitor meets SmaRTC's own 404 and 500 pages, not Django's debug pages listing
# every URL (DEBUG=true brings those back). The Makefile serves static files with `runserver
# --insecure`, and the app serves uploaded media itself, since no web server stands in front.
os.environ.setdefault("SERVE_MEDIA", "true")
# The VAPID key pair `make run` generated once (manage.py vapid_keys); the environment wins.
environ.Env.read_env(Path(__file__).resolve().parents[2] / ".vapid.env", overwrite=False)

from .base import *  # noqa: E402,F401,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
