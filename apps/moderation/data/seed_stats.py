"""Print the counts tables for README.md from toxicity_seed.csv and toxicity_holdout.csv.

Run from anywhere: python apps/moderation/data/seed_stats.py
Standard library only; the "swear" list mirrors tests/unit/test_toxicity_seed.py.
"""
import csv
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATEGORIES = ["insult", "threat", "hate", "harassment", "sexual", "self_harm"]
HARD_NEGATIVES = ["profanity_praise", "gaming_violence", "quoted_report", "identity_neutral",
                  "self_harm_support", "teasing", "music_slang", "criticism"]
HARD_POSITIVES = ["no_swear", "veiled_threat", "exclusion", "condescension", "dogpiling", "obfuscated", "coded"]
SWEAR_WORDS = {
    "ass", "asshole", "bastard", "bloody", "crap", "damn", "goddamn", "hell", "prick", "slut",
    "twat", "wanker", "whore", "fag", "retard", "retarded", "stfu", "gtfo", "wtf",
    "putain", "ptn", "merde", "con", "conne", "connard", "connasse", "pute", "salope", "bordel",
    "nique", "ntm", "fdp", "batard", "bâtard", "chier", "foutre", "gueule", "enculé", "encule",
    "tabarnak", "câlisse", "calisse", "crisse", "criss", "osti", "ostie", "ostid", "couilles", "niquer",
}
SWEAR_STEMS = ("fuck", "shit", "bitch", "cunt", "dick", "piss", "dumbass", "connard", "connass", "salop", "enculé")


def has_swear(text):
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).lower())
    return any(w in SWEAR_WORDS or any(stem in w for stem in SWEAR_STEMS) for w in words)


def table(name):
    with (HERE / name).open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    langs = ["en", "fr"]
    by = {lang: [r for r in rows if r["lang"] == lang] for lang in langs}

    def line(label, pick):
        counts = [sum(1 for r in by[lang] if pick(r)) for lang in langs]
        return f"| {label} | " + " | ".join(str(c) for c in counts) + f" | {sum(counts)} |"

    out = [f"### {name}", "", "| | en | fr | total |", "|---|---:|---:|---:|",
           line("rows", lambda r: True),
           line("benign (toxic=0)", lambda r: r["toxic"] == "0"),
           line("toxic (toxic=1)", lambda r: r["toxic"] == "1")]
    for cat in CATEGORIES:
        out.append(line(f"category `{cat}`", lambda r, c=cat: r["category"] == c))
    out.append(line("benign, no hard case", lambda r: r["toxic"] == "0" and not r["hard_case"]))
    for hc in HARD_NEGATIVES:
        out.append(line(f"hard negative `{hc}`", lambda r, h=hc: r["hard_case"] == h))
    out.append(line("toxic, no hard case", lambda r: r["toxic"] == "1" and not r["hard_case"]))
    for hc in HARD_POSITIVES:
        out.append(line(f"hard positive `{hc}`", lambda r, h=hc: r["hard_case"] == h))
    out.append(line("toxic with no word from the swear list", lambda r: r["toxic"] == "1" and not has_swear(r["text"])))
    total = len(rows)
    fr = len(by["fr"])
    out.append("")
    shares = [f"French share {100 * fr / total:.1f}%"]
    for lang in langs:
        rs = by[lang]
        tox = [r for r in rs if r["toxic"] == "1"]
        ben = [r for r in rs if r["toxic"] == "0"]
        shares.append(f"{lang}: toxic {100 * len(tox) / len(rs):.1f}%, "
                      f"hard negatives {100 * sum(bool(r['hard_case']) for r in ben) / len(ben):.1f}% of benign, "
                      f"no swear word {100 * sum(not has_swear(r['text']) for r in tox) / len(tox):.1f}% of toxic")
    out.append("; ".join(shares) + ".")
    return "\n".join(out)


if __name__ == "__main__":
    print(table("toxicity_seed.csv"))
    print()
    print(table("toxicity_holdout.csv"))
