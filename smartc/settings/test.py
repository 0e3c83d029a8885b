"""The test suite: real PostgreSQL and Redis (started by tests/plugins/services.py when the
environment does not name them)."""
from .base import *  # noqa: F401,F403
from .base import BASE_DIR, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = str(BASE_DIR / ".test-media")
ALLOWED_HOSTS = ["*"]
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
PRESENCE_BATCH_SECONDS = 0.1
