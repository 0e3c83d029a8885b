"""The test suite: real PostgreSQL and Redis (started by tests/plugins/services.py when the
environment does not name them)."""
import os

from .base import *  # noqa: F401,F403
from .base import BASE_DIR, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# One folder per parallel worker (pytest-xdist; the servers and Celery workers a test starts inherit
# the variable): ids repeat across the workers' databases, and so would the files' names.
MEDIA_ROOT = str(BASE_DIR / ".test-media" / os.environ.get("PYTEST_XDIST_WORKER", "main"))
ALLOWED_HOSTS = ["*"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
PRESENCE_BATCH_SECONDS = 0.1
# A fixed VAPID pair for the suite (its worker processes sign with the same key the tests verify),
# and the local push endpoint the push tests start, over plain HTTP on loopback.
VAPID_PRIVATE_KEY = "gtR04-kmLbW8W4G5DTxG05RkOIFRIz7AZ8jPlWtWx5M"
VAPID_PUBLIC_KEY = "BFrD8N9xbHkr-8yxRKh5Il_5_SWc1rmWLfOfGAP1ZREp6yvyPwhlPAfBzLvWpFRNk5Pcf_ea_05XGPxu7GX1f0U"
VAPID_SUBJECT = "mailto:tests@smartc.test"
PUSH_HTTP_HOSTS = ["127.0.0.1"]
PUSH_RETRY_SECONDS = 0.2
