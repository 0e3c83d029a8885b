"""`manage.py vapid_keys`: the VAPID key pair of `make run`'s embedded default, generated once.

Writes VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY to a git-ignored file (.vapid.env at the project's
root, which the dev settings read) unless it exists; browsers' subscriptions are tied to the
public key, so it must not change from one run to the next. `--print` prints a new pair for an
environment file instead (production: docs/production.md)."""
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.management.base import BaseCommand

from apps.notifications.push import b64url


def new_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    private = b64url(key.private_numbers().private_value.to_bytes(32, "big"))
    public = b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                  serialization.PublicFormat.UncompressedPoint))
    return private, public


class Command(BaseCommand):
    help = "Generate the VAPID key pair for Web Push once (.vapid.env), or print a new one."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(Path(settings.BASE_DIR) / ".vapid.env"))
        parser.add_argument("--print", action="store_true", help="Print a new pair; write nothing.")

    def handle(self, *args, file: str, print: bool, **options):  # noqa: A002 (the option's name)
        if print:
            private, public = new_pair()
            self.stdout.write(f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}")
            return
        path = Path(file)
        if path.exists():
            self.stdout.write(f"VAPID keys: {path.name} (kept)")
            return
        private, public = new_pair()
        path.write_text(f"# Web Push (VAPID) keys of this install, made by manage.py vapid_keys.\n"
                        f"VAPID_PRIVATE_KEY={private}\nVAPID_PUBLIC_KEY={public}\n")
        path.chmod(0o600)
        self.stdout.write(f"VAPID keys: {path.name} (new)")
