"""Which published numbers rest on the article's stated method, and which on a reading of the article that its
numbers require.

The article names its tests and software but leaves some choices open; where the book picks one *because only
that choice reproduces the printed numbers*, the scorecard says so (``basis`` column), so that a reader can tell
"the article's method" from "a reading of the article that its numbers require". Each reading names the evidence.
"""
from __future__ import annotations

import re

#: (pattern of target ids, the reading and its evidence). The first matching pattern applies.
READINGS: list[tuple[str, str]] = [
    (r"^thirdline\.os_type_",
     "type of third-line therapy compared among its recipients only, every regimen a level even when one patient "
     "received it: with 'no third line' as one more level the published P could not exceed the bound the audit "
     "derives from the receipt P"),
    (r"^(baseline\.child_pugh_a_p|response\.(orr|dcr|sd)_p|thirdline\.p|safety\..*_p)(_matched)?$",
     "2x2 comparisons by Pearson's chi-square without continuity correction: the article says 'chi-square or "
     "Fisher's exact test'; only the uncorrected statistic gives its printed p-values"),
    (r"^survival\.(os|pfs)_q[13]_",
     "the bracket after a median read as the Kaplan-Meier interquartile range (the text calls it IQR; it could be "
     "a 95% CI)"),
    (r"^survival\.(os|pfs)_followup_",
     "follow-up summarised by quantiles of the observed times (the article does not say how; the reverse "
     "Kaplan-Meier gives other numbers)"),
]

ARTICLE_METHOD = "the article's method"


def basis_of(target_id: str) -> str:
    """``"the article's method"`` or ``"reading: …"`` for one target id."""
    for pattern, reading in READINGS:
        if re.search(pattern, target_id):
            return f"reading: {reading}"
    return ARTICLE_METHOD
