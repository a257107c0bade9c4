"""A victim's training condition: which data ('clean' or 'poisoned') and which thief
transformed it or trained on it. Results store it by its label, 'poisoned+mp3_32k'
(`Condition.label`), and read it back with `Condition.parse`; light, so that the leaderboard
reads results without loading torch."""

from __future__ import annotations

from dataclasses import dataclass

NO_THIEF = "none"
"""Row label of victims trained on a training set as it is."""
DATA_KINDS = ("clean", "poisoned")


@dataclass(frozen=True)
class Condition:
    """data: 'clean' or 'poisoned'; thief: a defense label, NO_THIEF for the set as it is."""

    data: str
    thief: str = NO_THIEF

    def __post_init__(self) -> None:
        if self.data not in DATA_KINDS:
            raise ValueError(f"condition data must be one of {DATA_KINDS}, got {self.data!r}")
        if not self.thief or "+" in self.thief:
            raise ValueError(f"condition thief must be a defense label without '+', got {self.thief!r}")

    @property
    def label(self) -> str:
        """'poisoned', 'clean+mp3_32k', ...: the key of results.json's victims."""
        return self.data if self.thief == NO_THIEF else f"{self.data}+{self.thief}"

    @classmethod
    def parse(cls, label: str) -> Condition:
        """Inverse of `label`; ValueError for anything else."""
        data, plus, thief = label.partition("+")
        return cls(data, thief if plus else NO_THIEF)
