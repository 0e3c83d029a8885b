"""The same code runs on embedded defaults or on real services, chosen by the environment."""
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default']['ENGINE'], 'layer': s.CHANNEL_LAYERS['default']['BACKEND'], "
    "'cache': s.CACHES['default']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, 'embedded': s.CELERY_EMBEDDED, "
    "'db_options': s.DATABASES['default'].get('OPTIONS', {}), "
    "'broker': s.CELERY_BROKER_URL, 'media': s.STORAGES['default']['BACKEND'], 'debug': s.DEBUG, "
    "'serve_media': s.SERVE_MEDIA}))"
)


def settings_with(env: dict, module="smartc.settings.dev") -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME"}}
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults():
    s = settings_with({})
    assert s["db"].endswith("sqlite3")
    assert s["layer"] == "channels.layers.InMemoryChannelLayer"
    assert s["cache"].endswith("LocMemCache")
    # Celery on its in-memory broker: runserver runs the worker and beat (and turns eager off there);
    # other commands, with no worker, run tasks inline.
    assert s["embedded"] is True and s["eager"] is True and s["broker"].startswith("memory://")
    # Request and worker threads write side by side: WAL, and writers queue for the lock.
    assert s["db_options"]["transaction_mode"] == "IMMEDIATE" and s["db_options"]["timeout"] >= 5
    assert "journal_mode=WAL" in s["db_options"]["init_command"]
    assert s["media"].endswith("FileSystemStorage")
    assert s["debug"] is False  # SmaRTC's own error pages, not Django's debug pages
    assert s["serve_media"] is True


def test_real_services_from_the_environment():
    s = settings_with({"DATABASE_URL": "postgres://u@db:5432/smartc", "REDIS_URL": "redis://cache:6379/0",
                       "AWS_STORAGE_BUCKET_NAME": "media"})
    assert s["db"].endswith("postgresql")
    assert s["layer"] == "apps.realtime.layers.BlockingPoolRedisChannelLayer"
    assert s["cache"].endswith("RedisCache")
    assert s["eager"] is False and s["embedded"] is False and s["broker"] == "redis://cache:6379/0"
    assert s["media"] == "storages.backends.s3.S3Storage"


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "smartc.settings.prod"
    out = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    assert out.returncode != 0 and "SECRET_KEY" in out.stderr


def test_compose_stack_names_every_part_and_real_entry_points():
    compose = yaml.safe_load((ROOT / "docker/compose.yaml").read_text())
    services = compose["services"]
    for name in ["postgres", "redis", "web", "gateway", "worker", "beat", "nginx", "prometheus", "grafana"]:
        assert name in services, name
    commands = json.dumps({n: services[n].get("command") for n in ["web", "gateway", "worker", "beat"]})
    assert "smartc.asgi:application" in commands
    assert "celery_app" in commands and "default,media,moderation" in commands
    build = services["web"]["build"]
    assert (ROOT / "docker" / build["context"] / build["dockerfile"]).is_file()
    assert (ROOT / "docker/nginx.conf").read_text().count("proxy_pass") >= 2


def test_cloudfront_signing_is_configured_from_the_environment(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "cloudfront.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                      serialization.NoEncryption()))
    probe = ("import django; django.setup(); from django.core.files.storage import default_storage as s; "
             "print(s.url('tracks/k/stream.m4a'))")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DJANGO_SETTINGS_MODULE="smartc.settings.dev", AWS_STORAGE_BUCKET_NAME="media",
               CLOUDFRONT_DOMAIN="cdn.example.org", CLOUDFRONT_PRIVATE_KEY_PATH=str(pem), CLOUDFRONT_KEY_ID="KTEST")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    url = out.stdout.strip().splitlines()[-1]
    assert url.startswith("https://cdn.example.org/tracks/k/stream.m4a?Expires=")
    assert "Signature=" in url and url.endswith("Key-Pair-Id=KTEST")


def production_env(**extra) -> dict:
    """What an operator sets (docker/.env.example), with nothing of the test run's own."""
    import secrets

    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")  # the browser tests' async flag
           and k not in {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "SECRET_KEY", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="smartc.settings.prod", SECRET_KEY=secrets.token_urlsafe(50),
               ALLOWED_HOSTS="smartc.example.com,testserver", CSRF_TRUSTED_ORIGINS="https://smartc.example.com",
               DATABASE_URL="postgres://smartc:s3cret@db.internal:5432/smartc", REDIS_URL="redis://cache.internal:6379/0",
               **extra)
    return env


def test_production_settings_pass_the_deployment_checks():
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                         env=production_env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout
    assert "WARNING" not in out.stderr and "Warning" not in out.stderr


def test_production_redirects_to_https_and_pins_it_except_for_health_checks():
    probe = (
        "import json, django; django.setup(); from django.test import Client; c = Client(); "
        "plain, metrics = c.get('/accounts/login'), c.get('/metrics'); "
        "secure = c.get('/accounts/login', HTTP_X_FORWARDED_PROTO='https'); "
        "print(json.dumps([plain.status_code, plain.get('Location'), metrics.status_code, "
        "secure.get('Strict-Transport-Security')]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=production_env(), capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    plain, location, metrics, hsts = json.loads(out.stdout.strip().splitlines()[-1])
    assert (plain, location) == (301, "https://testserver/accounts/login")
    assert metrics == 200  # compose health checks and Prometheus scrape over plain HTTP
    assert hsts == "max-age=31536000; includeSubDomains; preload"


def policy_with(env: dict) -> dict:
    probe = ("import json, django; django.setup(); from django.test import Client; "
             "print(json.dumps(Client().get('/accounts/login')['Content-Security-Policy']))")
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME"}}
    env = {**base, "DJANGO_SETTINGS_MODULE": "smartc.settings.dev", "ALLOWED_HOSTS": "testserver", **env}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    header = json.loads(out.stdout.strip().splitlines()[-1])
    return {d.split()[0]: d.split()[1:] for d in header.split(";")}


def test_the_policy_lets_pages_reach_the_media_host_and_janus():
    policy = policy_with({"AWS_STORAGE_BUCKET_NAME": "media", "CLOUDFRONT_DOMAIN": "cdn.example.org",
                          "JANUS_PUBLIC_URL": "wss://smartc.example.org/janus-ws"})
    for directive in ("img-src", "media-src", "connect-src"):
        assert "https://cdn.example.org" in policy[directive], directive
    assert "wss://smartc.example.org" in policy["connect-src"]
    policy = policy_with({"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
                          "AWS_S3_ADDRESSING_STYLE": "path", "JANUS_URL": "http://janus:8088/janus"})
    assert "http://127.0.0.1:9000" in policy["media-src"] and "ws://janus:8188" in policy["connect-src"]
    policy = policy_with({"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_REGION_NAME": "eu-west-3"})
    assert "https://media.s3.eu-west-3.amazonaws.com" in policy["img-src"]
    # Without S3 or Janus nothing but this site.
    policy = policy_with({})
    assert policy["connect-src"] == ["'self'"] and policy["media-src"] == ["'self'", "blob:"]
