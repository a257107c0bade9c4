"""Names of victims' training sets (bench.run.training_sets): 'clean' or 'poisoned', then
'+<thief>' when a thief transformed them or trained on them; light, so that the leaderboard
reads them without loading torch."""

from __future__ import annotations

NO_THIEF = "none"
"""Row label of victims trained on a training set as it is."""


def thief_of(condition: str) -> str:
    """'poisoned' / 'clean' -> 'none'; 'poisoned+mp3_32k' -> 'mp3_32k'."""
    return condition.partition("+")[2] or NO_THIEF
