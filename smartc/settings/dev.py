"""`make run`: a laptop with embedded defaults unless the environment says otherwise."""
import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: E402,F401,F403
from .base import env  # noqa: E402

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
