"""Production: everything comes from the environment; nothing insecure is defaulted."""
from .base import *  # noqa: F401,F403
from .base import env

SECRET_KEY = env("SECRET_KEY")
DEBUG = False
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# HTTPS only: plain HTTP is redirected, and browsers are told to use nothing else for a year
# (docs/production.md, TLS). Health checks and Prometheus reach the nodes over plain HTTP on the
# internal network, so /metrics is not redirected (nginx does not expose it).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# The API schema and Swagger UI are for staff unless the instance chooses to publish them.
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=False)
