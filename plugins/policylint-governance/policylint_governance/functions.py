"""Functions the governance policies call from their conditions.

A condition function must be pure and fast (it runs once per manifest per call), takes
positional arguments only, and never sees an absent value: a call with an absent argument is
itself absent. Its docstring's first line is what ``policylint plugins`` shows.
"""

from __future__ import annotations

import re

#: The privacy office's ticket ids: PRV, the year, a sequence number (PRV-2026-014).
REVIEW_ID = re.compile(r"PRV-[0-9]{4}-[0-9]{3,}")


def is_review_id(text: str) -> bool:
    """True when the text is a privacy review id such as PRV-2026-014.

    The condition language has no regular expressions; this is the one the privacy office's
    tracker uses. "pending" or "TBD" is a well-formed manifest value but not a review.
    """
    return isinstance(text, str) and REVIEW_ID.fullmatch(text) is not None
