"""The toxicity seed and holdout sets: shape, label balance, hard cases, and no duplicated messages.

Reads the CSV files directly (no apps.moderation import) so the data can be checked on its own.
"""
import csv
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "apps" / "moderation" / "data"
FILES = {"seed": DATA / "toxicity_seed.csv", "holdout": DATA / "toxicity_holdout.csv"}
MIN_ROWS = {"seed": 2000, "holdout": 250}

HEADER = ["id", "lang", "text", "toxic", "category", "hard_case", "note"]
LANGS = {"en", "fr"}
CATEGORIES = {"insult", "threat", "hate", "harassment", "sexual", "self_harm"}
HARD_NEGATIVES = {"profanity_praise", "gaming_violence", "quoted_report", "identity_neutral",
                  "self_harm_support", "teasing", "music_slang", "criticism"}
HARD_POSITIVES = {"no_swear", "veiled_threat", "exclusion", "condescension", "dogpiling", "obfuscated", "coded"}

# "Swear" for the no-swear share: these exact words, plus any word containing one of the stems.
SWEAR_WORDS = {
    # English
    "ass", "asshole", "bastard", "bloody", "crap", "damn", "goddamn", "hell", "prick", "slut",
    "twat", "wanker", "whore", "fag", "retard", "retarded", "stfu", "gtfo", "wtf",
    # French (France and Québec)
    "putain", "ptn", "merde", "con", "conne", "connard", "connasse", "pute", "salope", "bordel",
    "nique", "ntm", "fdp", "batard", "bâtard", "chier", "foutre", "gueule", "enculé", "encule",
    "tabarnak", "câlisse", "calisse", "crisse", "criss", "osti", "ostie", "ostid", "couilles", "niquer",
}
SWEAR_STEMS = ("fuck", "shit", "bitch", "cunt", "dick", "piss", "dumbass", "connard", "connass", "salop", "enculé")


def normalise(text):
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def has_swear(text):
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())
    return any(w in SWEAR_WORDS or any(stem in w for stem in SWEAR_STEMS) for w in words)


def load(name):
    with FILES[name].open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [dict(zip(header, values, strict=True)) for values in reader]
    return header, rows


@pytest.fixture(scope="module", params=sorted(FILES))
def dataset(request):
    header, rows = load(request.param)
    return request.param, header, rows


def test_header_and_size(dataset):
    name, header, rows = dataset
    assert header == HEADER
    assert len(rows) >= MIN_ROWS[name]
    assert all(len(r) == len(HEADER) for r in rows)


def test_ids_unique_and_fields_valid(dataset):
    _, _, rows = dataset
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == len(ids)
    for r in rows:
        assert r["lang"] in LANGS, r
        assert r["toxic"] in {"0", "1"}, r
        assert r["text"].strip() and "\n" not in r["text"], r


def test_french_share(dataset):
    _, _, rows = dataset
    share = sum(r["lang"] == "fr" for r in rows) / len(rows)
    assert 0.30 <= share <= 0.37, share


@pytest.mark.parametrize("lang", sorted(LANGS))
def test_toxic_share_per_language(dataset, lang):
    _, _, rows = dataset
    in_lang = [r for r in rows if r["lang"] == lang]
    share = sum(r["toxic"] == "1" for r in in_lang) / len(in_lang)
    assert 0.37 <= share <= 0.43, (lang, share)


def test_category_exactly_on_toxic_rows(dataset):
    _, _, rows = dataset
    for r in rows:
        if r["toxic"] == "1":
            assert r["category"] in CATEGORIES, r
        else:
            assert r["category"] == "", r


def test_every_category_in_every_language(dataset):
    _, _, rows = dataset
    for lang in LANGS:
        seen = {r["category"] for r in rows if r["lang"] == lang and r["toxic"] == "1"}
        assert seen == CATEGORIES, (lang, CATEGORIES - seen)


def test_hard_case_valid_for_label(dataset):
    _, _, rows = dataset
    for r in rows:
        allowed = HARD_POSITIVES if r["toxic"] == "1" else HARD_NEGATIVES
        assert r["hard_case"] == "" or r["hard_case"] in allowed, r


def test_hard_negative_share_of_benign(dataset):
    _, _, rows = dataset
    benign = [r for r in rows if r["toxic"] == "0"]
    share = sum(bool(r["hard_case"]) for r in benign) / len(benign)
    assert share >= 0.35, share


def test_no_swear_share_of_toxic(dataset):
    _, _, rows = dataset
    toxic = [r for r in rows if r["toxic"] == "1"]
    share = sum(not has_swear(r["text"]) for r in toxic) / len(toxic)
    assert share >= 0.30, share


def test_swear_list_sanity():
    assert has_swear("this drop is fucking insane") and has_swear("putain ce morceau")
    assert not has_swear("nobody wants you here, just leave") and not has_swear("hello there")


def test_no_duplicate_texts_across_seed_and_holdout():
    seen = {}
    dups = []
    for name in sorted(FILES):
        for r in load(name)[1]:
            key = normalise(r["text"])
            if key in seen:
                dups.append((seen[key], r["id"], r["text"]))
            else:
                seen[key] = r["id"]
    assert not dups, dups[:20]


def test_holdout_ids_do_not_collide_with_seed():
    seed_ids = {r["id"] for r in load("seed")[1]}
    assert not seed_ids & {r["id"] for r in load("holdout")[1]}


def test_hard_cases_cover_every_kind():
    _, rows = load("seed")
    counts = Counter(r["hard_case"] for r in rows if r["hard_case"])
    assert set(counts) == HARD_NEGATIVES | HARD_POSITIVES
