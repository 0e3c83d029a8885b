"""The context-aware toxicity model (apps/moderation/toxicity): trained on the seed set it ranks
abuse above ordinary talk in English and in French and names the kind of abuse; a retrain that
evaluates worse is stored but not promoted; without the ML packages the scorer falls back to
alt-profanity-check and says so; the train and eval commands print their figures.

The seed is embedded once per test session (the encoder keeps vectors per text), which is most of
this file's time; each training after that is four small fits (3 calibration folds and the head)."""
from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from apps.chat import services as chat  # noqa: E402
from apps.moderation import services  # noqa: E402
from apps.moderation.models import ToxicityModel  # noqa: E402
from apps.moderation.toxicity import training  # noqa: E402
from apps.moderation.toxicity.scorer import ToxicityScorer  # noqa: E402
from tests.integration.test_gateway import text_channel  # noqa: E402, F401

ROOT = Path(__file__).resolve().parents[2]

# Written for this test, not taken from the seed or holdout files.
TOXIC_EN = ["you are a worthless moron and everyone here hates you", "shut up you pathetic loser",
            "i know where you live and i'm going to hurt you", "go kill yourself nobody would miss you",
            "send me nudes or i'll tell everyone your secret", "people like you are vermin, get out of our country",
            "you're so ugly it hurts to look at your avatar", "everyone go spam his dms until he quits lol",
            "your music is trash because you are a brainless idiot", "ur a d1ckhead and a f*cking clown"]
BENIGN_EN = ["this remix is fire, the bassline at 1:10 is perfect", "anyone up for ranked later tonight?",
             "thanks for the feedback, i'll fix the mix tomorrow", "good morning everyone, coffee time",
             "we destroyed the final boss on hard mode, what a fight", "the vocals are a bit quiet in the chorus",
             "can a mod pin the event schedule please", "love this playlist, perfect for studying",
             "happy birthday! hope you have a great day", "that drop absolutely slaps, well done"]
TOXIC_FR = ["t'es vraiment un gros con, personne veut de toi ici", "ferme ta gueule espèce de débile",
            "je sais où tu habites, fais gaffe à toi ce soir", "va te pendre, ça rendra service à tout le monde",
            "envoie moi des photos de toi en sous-vêtements", "ces gens-là c'est des rats, dehors de chez nous",
            "t'es moche et ta musique est aussi nulle que toi",
            "tout le monde signalez son compte jusqu'à ce qu'il parte",
            "sale abruti, retourne jouer aux billes", "t'es un c0nnard fini"]
BENIGN_FR = ["ce morceau est une dinguerie, bravo", "qui est chaud pour une partie ce soir ?",
             "merci pour les retours, je corrige le mix demain", "bonjour tout le monde, bonne journée",
             "on a massacré le boss final, trop bien", "la voix est un peu trop basse dans le refrain",
             "un modo peut épingler le planning de l'event svp", "j'adore cette playlist pour bosser",
             "joyeux anniversaire, passe une super journée !", "la prod est sale, dans le bon sens du terme"]


@pytest.fixture(scope="session")
def trained():
    """A model fitted on the seed's training part (no database: the head and its calibration)."""
    seed = training.read_csv(training.SEED_FILE)
    train_rows, _ = training.split(seed, [])
    return training.fit(train_rows)


def scores(model, texts):
    return model.predict(texts, training.embed(texts))


@pytest.mark.parametrize("toxic,benign", [(TOXIC_EN, BENIGN_EN), (TOXIC_FR, BENIGN_FR)], ids=["en", "fr"])
def test_clear_abuse_ranks_above_ordinary_talk(trained, toxic, benign):
    s, _ = scores(trained, toxic + benign)
    bad, good = s[:len(toxic)], s[len(toxic):]
    pairs = np.mean([b > g for b in bad for g in good])
    assert pairs >= 0.95, (pairs, list(zip(toxic + benign, np.round(s, 2), strict=True)))
    assert np.median(bad) >= 0.5 > np.median(good)


def test_categories_name_the_kind_of_abuse(trained):
    _, cats = scores(trained, ["i'm going to find you after school and break your legs",
                               "you are the dumbest, most useless idiot i've ever met",
                               "je vais te retrouver et te casser les jambes"])
    threat, insult, menace = cats
    assert max(threat, key=threat.get) == "threat", threat
    assert max(insult, key=insult.get) == "insult", insult
    assert max(menace, key=menace.get) == "threat", menace
    assert set(threat) == {"insult", "threat", "hate", "harassment", "sexual", "self_harm"}


@pytest.mark.django_db
def test_train_promote_refuse_a_worse_retrain_and_evaluate(settings, tmp_path, guild, alice):  # noqa: F811
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    out = io.StringIO()
    call_command("train_toxicity", stdout=out)
    printed = out.getvalue()
    assert "PROMOTED" in printed and "NOT PROMOTED" not in printed, printed
    assert "ROC AUC" in printed and "hard-negative FPR" in printed and "category AUC" in printed
    first = ToxicityModel.objects.get(promoted=True)
    assert first.metrics["auc_en"] >= 0.9 and first.metrics["auc_fr"] >= 0.8, first.metrics
    assert (tmp_path / first.artifact).exists()

    # The promoted model now scores, and the moderation queue keeps its category scores on the flag.
    scorer = ToxicityScorer()
    [bad, good] = scorer.score(["i know where you live and i'm going to hurt you", "lovely mix, thanks!"])
    assert scorer.name == f"toxicity-v{first.version}" and bad > 0.5 > good
    # a version trained now runs e5's first 8 layers and no MiniLM, and says so
    assert scorer.engine == "onnxruntime" and sorted(first_files(first)) == ["multilingual-e5-small.int8.onnx"]
    meta = training.load_artifact(first.artifact)[1]
    assert meta["encoder_depth"] == {"all-MiniLM-L6-v2": 0, "multilingual-e5-small": 8}
    settings.MODERATION_SCORER = "apps.moderation.toxicity.scorer.ToxicityScorer"
    from apps.moderation import scoring

    scoring._load.cache_clear()
    msg = chat.send_message(author=alice, channel_id=text_channel(guild).id, content="i'll break your legs tonight")
    flag = services.score_messages(message_ids=[msg.id])[msg.id]
    assert flag.scorer == f"toxicity-v{first.version}" and max(flag.categories, key=flag.categories.get) == "threat"
    scoring._load.cache_clear()

    # A retrain on deliberately shuffled labels evaluates worse on the same held-out rows: kept, not promoted.
    seed = training.read_csv(training.SEED_FILE)
    train_rows, _ = training.split(seed, [])
    rng = random.Random(7)
    shuffled = [training.Example(id=f"noise-{i}", lang=e.lang, text=e.text, toxic=t, category=c)
                for i, (e, (t, c)) in enumerate(zip(train_rows, rng.sample([(e.toxic, e.category) for e in train_rows],
                                                                           len(train_rows)), strict=True))]
    worse = training.train(extra=shuffled)
    assert not worse.promoted and "worse" in worse.note, worse.note
    assert ToxicityModel.objects.get(promoted=True).version == first.version

    out = io.StringIO()
    call_command("eval_toxicity", "--holdout", stdout=out)
    printed = out.getvalue()
    assert f"toxicity v{first.version} (promoted)" in printed
    assert "held-out split" in printed and "holdout file (300 rows)" in printed and "ROC AUC" in printed

    # --force promotes even a worse version.
    forced = training.train(extra=shuffled, force=True)
    assert forced.promoted and "--force" in forced.note
    assert list(ToxicityModel.objects.filter(promoted=True).values_list("version", flat=True)) == [forced.version]


def first_files(row) -> list[str]:
    """The ONNX encoders stored in the version's folder."""
    _, meta = training.load_artifact(row.artifact)
    return [path.rsplit("/", 1)[1] for path in meta["encoder_files"].values() if f"toxicity-v{row.version}/" in path]


BLOCKED = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "sentence_transformers", "onnxruntime"):
            raise ImportError(f"blocked: {name}")
sys.meta_path.insert(0, Block())
import django
django.setup()
from apps.moderation.toxicity.scorer import ToxicityScorer
s = ToxicityScorer()
first = s.score(["you are a fucking idiot", "see you at the listening party"])
s._checked = 0  # look again, as a worker does after a minute: the warning is not repeated
second = s.score(["shut up"])
print("NAME", s.name, round(first[0], 2), round(first[1], 2), s.score_categories(["x"]))
"""


def test_without_the_ml_packages_the_scorer_falls_back_and_says_so():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smartc.settings.test"}
    done = subprocess.run([sys.executable, "-c", BLOCKED], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "NAME alt-profanity-check" in done.stdout and "[{}]" in done.stdout, done.stdout
    name, high, low = done.stdout.split("NAME ")[1].split()[:3]
    assert float(high) > 0.5 > float(low)
    warnings = [line for line in done.stderr.splitlines() if "scoring falls back to alt-profanity-check" in line]
    assert len(warnings) == 1 and "requirements/ml.txt" in warnings[0], done.stderr


class CountingScorer:
    name = "counting"
    calls: list[list[str]] = []

    def score(self, texts):
        CountingScorer.calls.append(list(texts))
        return [0.9 if "idiot" in t else 0.1 for t in texts]


@pytest.mark.django_db
def test_a_batch_of_messages_is_scored_in_one_call(settings, guild, alice):  # noqa: F811
    from apps.moderation import scoring, tasks

    settings.MODERATION_SCORER = "tests.integration.test_toxicity_model.CountingScorer"
    scoring._load.cache_clear()
    CountingScorer.calls.clear()
    channel_id = text_channel(guild).id
    # the batch task run in-process (no worker in this test): one scorer call for the three
    ids = [chat.send_message(author=alice, channel_id=channel_id, content=t).id
           for t in ("hello all", "you idiot", "nice track")]
    Flag = services.Flag
    Flag.objects.filter(message_id__in=ids).delete()
    CountingScorer.calls.clear()
    result = tasks.score_messages.apply(args=[ids]).get()
    assert CountingScorer.calls == [["hello all", "you idiot", "nice track"]]
    assert result == {str(ids[0]): "clean", str(ids[1]): "open", str(ids[2]): "clean"}
    scoring._load.cache_clear()


@pytest.mark.django_db
def test_the_retrain_job_waits_for_enough_new_labels(settings):
    from apps.moderation import tasks
    from celery_app import app as celery_app

    settings.MODERATION_RETRAIN_MIN_LABELS = 200
    assert tasks.retrain_toxicity() == "skipped: 0 new labels (< 200)"
    assert not ToxicityModel.objects.exists()
    job = celery_app.conf.beat_schedule["retrain-toxicity-model"]
    assert job["task"] == "moderation.retrain_toxicity"
    assert celery_app.amqp.router.route({}, job["task"])["queue"].name == "moderation"
