"""Automod's pattern check: what moderators write every day passes; what can backtrack for ever on a
crafted message is refused before it is saved, and the check itself is fast."""
import re
import time

import pytest

from apps.moderation.automod import UnsafePattern, check_pattern

ACCEPTED = [r"\bfree\s+nitro\b", r"discord\.gg/\w+", r"buy (cheap)? pills", r"(ab)+", r"\w{1,64}@\w+\.com",
            r"[a-z]+coin", r"(?:https?://)?bit\.ly/\S+", r"n[i1!]gg?a"]
REFUSED = [r"(a+)+$", r"(a*)*b", r"(a|aa)+", r"(\w+\s?)*x", r"\s+\s+x", r".*.*=", r"(x)\1", r"(?=a)b",
           r"(?<!a)b", "x" * 201, "", "[unclosed"]


@pytest.mark.parametrize("pattern", ACCEPTED)
def test_everyday_patterns_pass(pattern):
    assert check_pattern(pattern) == pattern


@pytest.mark.parametrize("pattern", REFUSED)
def test_runaway_patterns_are_refused(pattern):
    with pytest.raises(UnsafePattern):
        check_pattern(pattern)


def test_accepted_patterns_stay_fast_on_the_longest_hostile_message():
    hostile = ["a" * 4000, " " * 4000, "ab" * 2000, "a@" * 2000]
    start = time.perf_counter()
    for pattern in ACCEPTED:
        compiled = re.compile(pattern, re.IGNORECASE)
        for text in hostile:
            compiled.search(text)
    assert time.perf_counter() - start < 2.0
