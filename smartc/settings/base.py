"""Settings shared by every environment.

Everything that differs between a laptop and production is read once, here, from the
environment (django-environ). The dev/test/prod modules only change defaults.
Embedded defaults: SQLite, in-memory channel layer and cache, Celery on its in-memory broker with
the worker and beat inside the server (celery_app/embedded.py), local media.
Setting DATABASE_URL, REDIS_URL or AWS_STORAGE_BUCKET_NAME switches to the real parts.
"""
from pathlib import Path
from urllib.parse import urlsplit

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-change-me")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
if env.bool("ALLOWED_HOSTS_OWN_ADDRESSES", default=False):
    # Prometheus finds each gateway replica through DNS and scrapes it by address (Host: <its IP>),
    # a name that changes with every container: the container allows its own addresses.
    import socket

    ALLOWED_HOSTS += socket.gethostbyname_ex(socket.gethostname())[2]
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before daphne: its runserver (daphne's, plus the embedded Celery worker) is the one that runs.
    "apps.core",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_prometheus",
    "csp",
    "apps.accounts",
    "apps.guilds",
    "apps.chat",
    "apps.realtime",
    "apps.dms",
    "apps.tracks",
    "apps.moderation",
    "apps.rtc",
    "apps.notifications",
    "apps.privacy",
    "apps.pwa",
    "apps.bots",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # A page whose database, Redis or storage is down answers 503, not 500 (apps/core/unavailable.py).
    "apps.core.unavailable.UnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.core.bodylimit.BodyLimitMiddleware",
    "apps.core.middleware.UnstorableTextMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Keeps the sessions page's list of signed-in browsers (apps/accounts/models.py UserSession).
    "apps.accounts.middleware.SessionActivityMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "smartc.urls"
WSGI_APPLICATION = "smartc.wsgi.application"
ASGI_APPLICATION = "smartc.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.guilds.context_processors.sidebar",
                "apps.moderation.context_processors.warnings",
            ],
        },
    },
]

# --- Database: SQLite on a laptop, PostgreSQL when DATABASE_URL is set. ---
# A new gateway socket's statements are prepared on the pooled connection they run on; off behind
# a pooler in transaction mode, which drops prepared statements (PgBouncer before 1.21).
GATEWAY_PREPARED_STATEMENTS = env.bool("GATEWAY_PREPARED_STATEMENTS", default=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# django-prometheus' wrappers count queries per database for the dashboards.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)
DATABASES["default"]["CONN_MAX_AGE"] = 0
if "postgresql" in DATABASES["default"]["ENGINE"]:
    # A pool per process: the WebSocket gateway reads the database on every connect, and opening a
    # PostgreSQL connection for each read costs more than the read (persistent connections are not
    # an option under ASGI, where threads come and go).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),
        # How long the pool keeps retrying one failed connection attempt. psycopg's default is 5 min,
        # doubling the wait between tries (up to 2 min), and no other attempt starts meanwhile: after
        # a database restart the app stayed down that long. Short, each waiting request starts a new
        # attempt, and the app serves again as soon as the database does.
        "reconnect_timeout": 1.0,
    }
    # The pool checks a connection before lending it: after a PostgreSQL restart the dead ones are
    # replaced instead of failing the next requests.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if GATEWAY_PREPARED_STATEMENTS:
        # Django turns psycopg's prepared statements off (threshold None). With a threshold no query
        # reaches, psycopg prepares only the statements that ask for it (apps/realtime/prepared.py:
        # READY's); Django's own cursors bind on the client and never prepare.
        DATABASES["default"]["OPTIONS"]["prepare_threshold"] = 2**31 - 1
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # `make run` writes from request threads and the embedded worker's threads at once. WAL lets reads
    # go on beside the one writer; IMMEDIATE makes a transaction take the write lock when it begins (a
    # deferred one that reads first fails at once with "database is locked" when it must upgrade);
    # `timeout` is how long a writer waits for its turn.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    })
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache and Celery broker when REDIS_URL is set. ---
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "apps.realtime.layers.BlockingPoolRedisChannelLayer",
            "CONFIG": {
                # socket_timeout above the layer's 5 s blocking read; a bounded pool per process
                # whose callers wait (`timeout` seconds at most) for a free connection.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30,
                           "max_connections": env.int("CHANNEL_LAYER_POOL_SIZE", default=200), "timeout": 30}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "smartc",
            # A Redis that does not answer fails the call in 2 s instead of holding the request.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- The event hub (apps/core/bus.py, apps/realtime/hub.py): gateway events travel over Redis
# pub/sub. By default on REDIS_URL; HUB_REDIS_URL moves them to a Redis of their own, and with
# HUB_REDIS_CLUSTER to a Redis Cluster (any node's address), where they use sharded pub/sub
# (SPUBLISH/SSUBSCRIBE): each group's channel lives on the shard that owns its slot, so the
# fan-out traffic grows with the shards instead of going through every node. ---
HUB_REDIS_URL = env("HUB_REDIS_URL", default=REDIS_URL)
HUB_REDIS_CLUSTER = env.bool("HUB_REDIS_CLUSTER", default=False)

# --- Celery: worker processes on Redis; without a broker, Celery's in-memory one. ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://localhost/")
# No broker to install (`make run`): the server runs a worker thread pool and beat in its own process
# (celery_app/embedded.py, started by runserver). Elsewhere nothing consumes the in-memory broker, so
# a manage.py command (seed_demo_tracks, the shell) runs its tasks inline (eager); the server turns
# eager off once its worker is up.
CELERY_EMBEDDED = CELERY_BROKER_URL.startswith("memory://")
# No result backend by default: nothing reads task results, and with a Redis backend every
# apply_async subscribes to a result channel, so a send waited ~19 s for Redis when it was down.
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_EMBEDDED)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# A task taken by a worker that died unacknowledged goes back to the queue after this many seconds
# (Redis has no consumer acks): longer than the longest task, a 3-hour track's renditions.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
if CELERY_EMBEDDED:
    # The in-memory transport polls its queues: a task waits at most this long (s) to be taken.
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = 0.05
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"

# --- Auth ---
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="SmaRTC")
# Login throttling (apps/accounts/services.py): failed logins per username from one client (address,
# or device cookie) in LOGIN_RATE_WINDOW seconds; per username from everywhere before each further
# failure delays clients without a device cookie (doubling, at most LOGIN_USER_MAX_DELAY seconds);
# distinct usernames failing from one address before it is refused; life of the device cookie.
LOGIN_RATE_LIMIT = env.int("LOGIN_RATE_LIMIT", default=5)
LOGIN_RATE_WINDOW = env.int("LOGIN_RATE_WINDOW", default=300)
LOGIN_USER_LIMIT = env.int("LOGIN_USER_LIMIT", default=20)
LOGIN_USER_MAX_DELAY = env.int("LOGIN_USER_MAX_DELAY", default=60)
LOGIN_ADDRESS_USERNAMES = env.int("LOGIN_ADDRESS_USERNAMES", default=20)
LOGIN_DEVICE_DAYS = env.int("LOGIN_DEVICE_DAYS", default=365)
# Email verification links last this long; password reset links PASSWORD_RESET_TIMEOUT seconds.
# Reset requests per address and per client address in PASSWORD_RESET_RATE_WINDOW seconds.
EMAIL_VERIFY_SECONDS = env.int("EMAIL_VERIFY_SECONDS", default=3 * 86400)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
PASSWORD_RESET_EMAIL_LIMIT = env.int("PASSWORD_RESET_EMAIL_LIMIT", default=3)
PASSWORD_RESET_IP_LIMIT = env.int("PASSWORD_RESET_IP_LIMIT", default=10)
PASSWORD_RESET_RATE_WINDOW = env.int("PASSWORD_RESET_RATE_WINDOW", default=3600)
# API tokens: longest life a member may give one (days), and the life of the token the login
# endpoint (POST /api/auth/token) hands out.
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", default=365)
API_TOKEN_LOGIN_DAYS = env.int("API_TOKEN_LOGIN_DAYS", default=30)
# Proxies (addresses or CIDR blocks) whose X-Forwarded-For is believed (apps/core/clientaddr.py);
# from any other peer the header is ignored. Empty: the peer is the client.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# --- Mail: sent by a Celery task, never inside a request (apps/accounts/tasks.py). ---
# EMAIL_URL: smtp://user:password@host:587 (plain), smtp+tls://… (STARTTLS), smtps://…:465 (SSL);
# or the usual EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS,
# EMAIL_USE_SSL. With neither, mail is printed on the console (`make run`: the links show there).
if env("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "")
    EMAIL_PORT = _email.get("EMAIL_PORT") or 25
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
    EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
else:
    EMAIL_HOST = env("EMAIL_HOST", default="")
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST
                        else "django.core.mail.backends.console.EmailBackend")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
    EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SmaRTC <noreply@localhost>")
# The address links in mail start with (https://chat.example.org); empty: the one of the request
# that asked for the mail.
SITE_URL = env("SITE_URL", default="")

# --- i18n ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Real-time gateway and chat ---
GATEWAY_HEARTBEAT_INTERVAL_MS = env.int("GATEWAY_HEARTBEAT_INTERVAL_MS", default=41250)
# A client that sends no heartbeat for this many intervals is closed.
GATEWAY_HEARTBEAT_GRACE = 1.5
GATEWAY_MAX_FRAME_BYTES = env.int("GATEWAY_MAX_FRAME_BYTES", default=16 * 1024)
# Client frames allowed per connection per window (Discord: 120 per 60 s).
GATEWAY_RATE_LIMIT = env.int("GATEWAY_RATE_LIMIT", default=120)
GATEWAY_RATE_WINDOW = env.int("GATEWAY_RATE_WINDOW", default=60)
# Frames a connection may have waiting to be written; past it the client is too slow and is closed.
GATEWAY_MAX_BACKLOG = env.int("GATEWAY_MAX_BACKLOG", default=1000)
# Gateway sockets one user may hold in one process (browser tabs, devices, bot shards); past it 4013.
GATEWAY_MAX_SOCKETS_PER_USER = env.int("GATEWAY_MAX_SOCKETS_PER_USER", default=200)
# The Discord-compatible API (apps/bots): requests per bot and route bucket per window (seconds),
# answered with Discord's X-RateLimit-* headers and 429 body; a bot gateway session survives a
# dropped socket this long, keeping up to BOT_RESUME_EVENTS events to replay on RESUME.
BOT_API_RATE_LIMIT = env.int("BOT_API_RATE_LIMIT", default=50)
BOT_API_RATE_WINDOW = env.int("BOT_API_RATE_WINDOW", default=1)
BOT_RESUME_SECONDS = env.int("BOT_RESUME_SECONDS", default=60)
BOT_RESUME_EVENTS = env.int("BOT_RESUME_EVENTS", default=1000)
# Threads per process reading READY state (each holds a database connection while it runs).
GATEWAY_READY_THREADS = env.int("GATEWAY_READY_THREADS", default=4)
# READY's statements prepared once per pooled connection (PostgreSQL; see the database settings).
# Presence changes are gathered per guild for this long and sent as one PRESENCE_UPDATE.
PRESENCE_BATCH_SECONDS = env.float("PRESENCE_BATCH_SECONDS", default=1.0)
# A member list request (gateway op 8) returns at most this many members.
MEMBER_LIST_LIMIT = env.int("MEMBER_LIST_LIMIT", default=1000)
MESSAGE_MAX_LENGTH = env.int("MESSAGE_MAX_LENGTH", default=4000)
HISTORY_PAGE_MAX = 100
# Link previews (apps/core/fetch.py): host names allowed to resolve to private or loopback addresses.
# Empty in production; tests list the local server that serves their pages.
LINK_PREVIEW_ALLOW_HOSTS = env.list("LINK_PREVIEW_ALLOW_HOSTS", default=[])
LINK_PREVIEW_CACHE_SECONDS = env.int("LINK_PREVIEW_CACHE_SECONDS", default=3600)
# Incoming webhooks: at most this many executions per webhook in each window (Discord: 5 per 2 s).
WEBHOOK_RATE_COUNT = env.int("WEBHOOK_RATE_COUNT", default=5)
WEBHOOK_RATE_SECONDS = env.int("WEBHOOK_RATE_SECONDS", default=2)

# --- Moderation ---
# The toxicity scorer (a dotted path to a class with `name` and `score(texts) -> [0..1]`). The default
# scores with the promoted toxicity model (manage.py train_toxicity; needs requirements/ml.txt) and
# with alt-profanity-check (apps.moderation.scoring.ProfanityCheckScorer) until there is one.
MODERATION_SCORER = env("MODERATION_SCORER", default="apps.moderation.toxicity.scorer.ToxicityScorer")
# Defaults for guilds that set none: from REVIEW a message goes to the review queue, from HIDE it is
# also hidden from everyone but its author until a moderator decides.
MODERATION_REVIEW_THRESHOLD = env.float("MODERATION_REVIEW_THRESHOLD", default=0.5)
MODERATION_HIDE_THRESHOLD = env.float("MODERATION_HIDE_THRESHOLD", default=0.9)
# Off: guild messages are not queued for scoring at all (automod still applies). For benchmarks
# (tests/bench/moderation.py compares delivery with and without) and for instances without workers.
MODERATION_SCORE_MESSAGES = env.bool("MODERATION_SCORE_MESSAGES", default=True)
# With Redis, live messages wait in a pending set and a worker scores up to this many in one call
# to the model (apps/moderation/pending.py); ids a dead worker had claimed are taken again after
# MODERATION_SCORE_CLAIM_SECONDS.
MODERATION_SCORE_BATCH = env.int("MODERATION_SCORE_BATCH", default=32)
# When more than MODERATION_SCORE_BATCH wait (a burst, busy cores), a drain takes them all up to this
# many: bigger batches cost less per message, and the cap bounds how long one batch takes.
MODERATION_SCORE_BATCH_MAX = env.int("MODERATION_SCORE_BATCH_MAX", default=256)
MODERATION_SCORE_CLAIM_SECONDS = env.int("MODERATION_SCORE_CLAIM_SECONDS", default=120)
# The toxicity model is retrained (and promoted only if it evaluates at least as well) once this
# many moderator decisions came in since the promoted version; the beat job checks daily.
MODERATION_RETRAIN_MIN_LABELS = env.int("MODERATION_RETRAIN_MIN_LABELS", default=200)
# Threads each toxicity encoder computes with, per worker process; 0 (the default): the cores the
# process owns divided by the tasks its worker runs at once (apps/moderation/toxicity/features.threads),
# so that one worker uses the machine and two workers on the same cores do not fight over them.
TOXICITY_THREADS = env.int("TOXICITY_THREADS", default=0)

# --- Notifications and Web Push (docs/notifications.md) ---
# The VAPID key pair push services know this server by: the private key as base64url (the raw
# 32-byte P-256 scalar, or DER), the public key as base64url (the uncompressed point browsers
# subscribe with; worked out from the private key when unset). `make run` generates a pair once
# (.vapid.env); production reads them from the environment. No private key: Web Push is off.
VAPID_PRIVATE_KEY = env("VAPID_PRIVATE_KEY", default="")
VAPID_PUBLIC_KEY = env("VAPID_PUBLIC_KEY", default="")
# Who push services contact about this server's pushes (a mailto: or https: URL).
VAPID_SUBJECT = env("VAPID_SUBJECT", default="mailto:admin@localhost")
# Push services whose https endpoints a subscription may name (a host or any host under it); "*":
# any https host. Others are refused, so a subscription cannot make the server post elsewhere.
PUSH_SERVICE_HOSTS = env.list("PUSH_SERVICE_HOSTS", default=[
    "fcm.googleapis.com", "android.googleapis.com", "push.services.mozilla.com", "push.apple.com",
    "notify.windows.com",
])
# Hosts (host or host:port) whose plain-http endpoints are accepted: tests' local push endpoint only.
PUSH_HTTP_HOSTS = env.list("PUSH_HTTP_HOSTS", default=[])
# How long a push service keeps a push for a device that is offline (seconds), how long the worker
# waits for its answer, and the first retry's delay after a timeout or a 5xx (doubled each time).
PUSH_TTL = env.int("PUSH_TTL", default=24 * 3600)
PUSH_TIMEOUT = env.float("PUSH_TIMEOUT", default=10.0)
PUSH_RETRY_SECONDS = env.float("PUSH_RETRY_SECONDS", default=10.0)
PUSH_MAX_RETRIES = env.int("PUSH_MAX_RETRIES", default=5)
# Devices one account may subscribe (the oldest is dropped past it).
PUSH_MAX_SUBSCRIPTIONS = env.int("PUSH_MAX_SUBSCRIPTIONS", default=20)

# --- Voice and video rooms (docs/voice.md) ---
# ICE servers every client gets as they are (STUN), as JSON: [{"urls": ["stun:stun.example.org:3478"]}].
RTC_ICE_SERVERS = env.json("RTC_ICE_SERVERS", default=[])
# coturn with `use-auth-secret`: a participant gets a username and password valid for TURN_TTL
# seconds with each join, and renews them while in the call (so they die soon after it).
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_SECRET = env("TURN_SECRET", default="")
TURN_TTL = env.int("TURN_TTL", default=300)
# "relay" makes browsers use TURN only (no direct path: peers never learn each other's addresses).
RTC_ICE_TRANSPORT_POLICY = env("RTC_ICE_TRANSPORT_POLICY", default="all")
# Rooms up to this many participants are a full mesh (each browser sends to every other one).
RTC_MESH_MAX = env.int("RTC_MESH_MAX", default=4)
# The Janus SFU for larger rooms; unset, a room never grows past RTC_MESH_MAX.
JANUS_URL = env("JANUS_URL", default="")
# Janus's Admin API, for Django only (tokens, room requests); defaults to JANUS_URL's host on :7088/admin.
JANUS_ADMIN_URL = env("JANUS_ADMIN_URL", default="")
# Where browsers reach Janus (its WebSocket API, ws:// or wss://); defaults to JANUS_URL's host on :8188.
JANUS_PUBLIC_URL = env("JANUS_PUBLIC_URL", default="")
# The one secret Django shares with Janus: the VideoRoom plugin's admin_key (only Django creates
# rooms) and Janus's api_secret and admin_secret (browsers need a token Django issued instead).
JANUS_ADMIN_KEY = env("JANUS_ADMIN_KEY", default="")
# Seconds Django waits for each Janus HTTP request before the join is refused (sfu_unavailable).
JANUS_TIMEOUT = env.float("JANUS_TIMEOUT", default=5.0)
# Publishers a VideoRoom room takes (Janus's own cap on a room's size).
JANUS_ROOM_PUBLISHERS = env.int("JANUS_ROOM_PUBLISHERS", default=50)
# Under the gateway's frame limit (GATEWAY_MAX_FRAME_BYTES), so an oversized SDP gets an error
# frame and the socket stays open; a browser's audio+video offer is 5-10 KB.
RTC_MAX_SDP_BYTES = env.int("RTC_MAX_SDP_BYTES", default=12 * 1024)

# --- Static and media files ---
STATIC_URL = "/static/"
# Third-party browser libraries come from npm (package.json; `make` runs `npm ci`), never copied in.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/wavesurfer", BASE_DIR / "node_modules" / "wavesurfer.js" / "dist"),
    ("vendor/hls", BASE_DIR / "node_modules" / "hls.js" / "dist"),
    # Turbo Drive: in-app links swap the page's body, the player bar and the gateway live on.
    ("vendor/turbo", BASE_DIR / "node_modules" / "@hotwired" / "turbo" / "dist"),
    # Emoji glyphs (Twemoji SVGs, CC-BY 4.0) and data (emojibase: names, shortcodes, keywords, groups).
    ("vendor/twemoji", BASE_DIR / "node_modules" / "@discordapp" / "twemoji" / "dist"),
    *((f"vendor/emojibase/{code}", BASE_DIR / "node_modules" / "emojibase-data" / code) for code, _name in LANGUAGES),
]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# The app itself serves MEDIA_ROOT at MEDIA_URL (`make run`: no web server in front of it).
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
# Uploads larger than this are refused before they are stored (bytes).
MAX_IMAGE_UPLOAD_BYTES = env.int("MAX_IMAGE_UPLOAD_BYTES", default=8 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Uploads above this size are streamed to a temporary file instead of being held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Chat attachments: largest file accepted (bytes), and how long an upload may wait unsent.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=25 * 1024 * 1024)
ATTACHMENT_UNSENT_HOURS = env.int("ATTACHMENT_UNSENT_HOURS", default=24)
# Tracks: largest upload (bytes) and longest audio (seconds) accepted; cover thumbnail sizes (px).
TRACK_MAX_BYTES = env.int("TRACK_MAX_BYTES", default=200 * 1024 * 1024)
TRACK_MAX_SECONDS = env.int("TRACK_MAX_SECONDS", default=3 * 3600)
# Audio one member may upload per UTC day (seconds); how long one media step may run (seconds; enforced by prefork
# workers; under the broker's visibility timeout, or a running step would be delivered again); a track with no
# progress for this long (seconds: past the visibility timeout plus a step's limit) is failed.
TRACK_DAILY_SECONDS = env.int("TRACK_DAILY_SECONDS", default=6 * 3600)
TRACK_STEP_TIME_LIMIT = env.float("TRACK_STEP_TIME_LIMIT", default=40 * 60)
TRACK_STALLED_AFTER = env.int("TRACK_STALLED_AFTER", default=3 * 3600)
TRACK_COVER_SIZES = (96, 300, 600)
# How often beat recomputes the trending scores (seconds).
TRENDING_EVERY_SECONDS = env.float("TRENDING_EVERY_SECONDS", default=600.0)
# Avatars: square WebP thumbnail sizes (px) made after an upload.
AVATAR_SIZES = (32, 96, 256)
# Privacy (docs/privacy.md): days between asking to delete an account and its deletion (signing in
# meanwhile cancels it); days an export's download link works.
ACCOUNT_DELETION_GRACE_DAYS = env.int("ACCOUNT_DELETION_GRACE_DAYS", default=14)
DATA_EXPORT_LINK_DAYS = env.int("DATA_EXPORT_LINK_DAYS", default=7)

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = True
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default="auto")
    AWS_S3_CUSTOM_DOMAIN = env("CLOUDFRONT_DOMAIN", default=None)
    _cf_key_path = env("CLOUDFRONT_PRIVATE_KEY_PATH", default="")
    if _cf_key_path:
        AWS_CLOUDFRONT_KEY = Path(_cf_key_path).read_bytes()
        AWS_CLOUDFRONT_KEY_ID = env("CLOUDFRONT_KEY_ID")
    _media_backend = "storages.backends.s3.S3Storage"
else:
    _media_backend = "django.core.files.storage.FileSystemStorage"

def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# Where browsers fetch media from when it is not this site (for the Content-Security-Policy).
if not AWS_STORAGE_BUCKET_NAME:
    _media_origins = []
elif AWS_S3_CUSTOM_DOMAIN:
    _media_origins = [f"https://{AWS_S3_CUSTOM_DOMAIN}"]
elif AWS_S3_ENDPOINT_URL:
    _endpoint = urlsplit(AWS_S3_ENDPOINT_URL)
    _media_origins = [_origin(AWS_S3_ENDPOINT_URL)]
    if AWS_S3_ADDRESSING_STYLE != "path":
        _media_origins.append(f"{_endpoint.scheme}://{AWS_STORAGE_BUCKET_NAME}.{_endpoint.netloc}")
else:
    _media_origins = [f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
                      f"https://{AWS_STORAGE_BUCKET_NAME}.s3.{AWS_S3_REGION_NAME}.amazonaws.com"]
MEDIA_ORIGINS = env.list("MEDIA_ORIGINS", default=_media_origins)

STORAGES = {
    "default": {"BACKEND": _media_backend},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # Named, scoped, expiring tokens (apps/accounts/models.py ApiToken), stored hashed.
        "apps.accounts.auth.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bodies are JSON (uploads declare their multipart parser): one encoding for clients and the schema.
    "DEFAULT_PARSER_CLASSES": ["apps.core.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["apps.core.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("API_USER_RATE", default="6000/hour"),
                               "uploads": env("API_UPLOAD_RATE", default="300/hour")},
    "DEFAULT_PAGINATION_CLASS": "apps.core.pagination.IdCursorPagination",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SmaRTC API",
    "DESCRIPTION": "Guilds, channels, roles, members, invites and permission overwrites. "
    "Errors always have the shape {\"error\": {\"code\", \"message\", \"fields\"}}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # PATCH bodies are validated as declared (fields the view needs stay required), not as partial.
    "COMPONENT_SPLIT_PATCH": False,
    # Swagger UI assets come from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    # The list is long enough that Swagger UI draws only what is near the screen: a filter by tag
    # and links to each operation (/api/docs/#/<tag>/<operationId>) help readers find their way.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "filter": True},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # A path id (<id:…>, apps/core/converters.py) is an integer no wider than the id columns, as
    # <int:…> was documented before it, with the bound it is now held to.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 0,
                                        "maximum": 2**63 - 1}},
    # Two choice sets meet in fields named "type"; each gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "ChannelTypeEnum": "apps.guilds.models.Channel.Type",
        "ReportTypeEnum": "apps.moderation.models.Report.Kind",
        "TrackStateEnum": ["uploaded", "processing", "ready", "failed"],
        "ActivityKindEnum": ["follow", "like", "repost", "comment", "reply"],
    },
    # The gateway's events are documented in the schema too (x-gateway-events), before the enums
    # of every component are named.
    "POSTPROCESSING_HOOKS": ["apps.core.schema.gateway_events", "drf_spectacular.hooks.postprocess_schema_enums"],
}
# /api/schema/ and /api/docs/ for everyone; off, only staff see them (others get 404).
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=True)

# --- Content-Security-Policy (django-csp) ---
# Scripts and styles come from this site only; an inline <style> needs the page's nonce (given to
# wavesurfer.js, which styles its shadow DOM); no inline script, event handler or style attribute
# runs. Media may also come from S3/CloudFront, sockets go to this site (the gateway; 'self' covers
# ws:/wss: to it) and to Janus, and no other site may frame a page.
_janus_origin = ([_origin(JANUS_PUBLIC_URL)] if JANUS_PUBLIC_URL
                 else [f"ws://{urlsplit(JANUS_URL).hostname}:8188"] if JANUS_URL else [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", "blob:", *MEDIA_ORIGINS],
        "media-src": [SELF, "blob:", *MEDIA_ORIGINS],
        "connect-src": [SELF, *MEDIA_ORIGINS, *_janus_origin],
        "worker-src": [SELF, "blob:"],
        # The web app manifest (/manifest.webmanifest, apps/pwa).
        "manifest-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
