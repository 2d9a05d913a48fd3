"""A patient's own words flagged for the clinician: the terms of `knowledge/comment_flags.yaml`
found in a comment written by questionnaire link.

A patient who writes "my legs went numb" in a comment box reports what a clinician should see
that day, but no one reads every comment at once. Flagging puts those comments first and says
which word was found; it never judges the comment, which is always shown whole.
"""

from __future__ import annotations

import re
from functools import cache

from sijcare.knowledge import Knowledge, load_knowledge


@cache
def _patterns(knowledge: Knowledge) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Each listed word as a whole-word, case-insensitive pattern (a phrase word by word)."""
    return tuple(
        (word, re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, word.split())) + r"(?!\w)",
                          re.IGNORECASE))
        for term in knowledge.comment_flags.terms for word in term.words)


def flagged_words(text: str | None) -> tuple[str, ...]:
    """The listed words found in `text`, as the list spells them, in the list's order."""
    if not text:
        return ()
    return tuple(word for word, pattern in _patterns(load_knowledge()) if pattern.search(text))
