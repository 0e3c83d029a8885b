"""The toxicity scorer: the bundled model tells abuse from ordinary talk, and the setting chooses
which scorer runs."""
from apps.moderation import scoring

CLEAN = ["Thanks for the mix, the bass line at 2:10 is lovely.", "See you all at the listening party tonight!",
         "Can someone pin the rules message?"]
ABUSIVE = ["You are a fucking idiot, shut up.", "Go to hell you stupid piece of shit.",
           "Fuck off, nobody wants your crap here, asshole."]


def test_default_scorer_ranks_abuse_above_clean_talk(settings):
    scorer = scoring.get_scorer()
    assert scorer.name == "alt-profanity-check"
    scores = scorer.score(CLEAN + ABUSIVE)
    assert len(scores) == 6 and all(0.0 <= s <= 1.0 for s in scores)
    clean, abusive = scores[:3], scores[3:]
    assert max(clean) < 0.5 < min(abusive), scores
    assert scorer.score([]) == []


class FixedScorer:
    name = "fixed"

    def score(self, texts):
        return [0.42 for _ in texts]


def test_the_setting_chooses_the_scorer(settings):
    settings.MODERATION_SCORER = "tests.unit.test_moderation_scoring.FixedScorer"
    scorer = scoring.get_scorer()
    assert scorer.name == "fixed" and scorer.score(["anything", "else"]) == [0.42, 0.42]
