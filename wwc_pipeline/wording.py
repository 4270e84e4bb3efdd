"""Counted nouns for sentences a reviewer reads ("1 catalog entry", "2 catalog entries")."""

from __future__ import annotations

IRREGULAR = {"entry": "entries", "criterion": "criteria", "catalog entry": "catalog entries"}


def plural_of(word: str) -> str:
    """The plural of one of our nouns: irregular ones listed, the last word's -y -> -ies, else -s."""
    if word in IRREGULAR:
        return IRREGULAR[word]
    head, _, last = word.rpartition(" ")
    if last in IRREGULAR:
        return f"{head} {IRREGULAR[last]}".strip()
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def plural(count: int, word: str, many: str | None = None) -> str:
    """`count word`, the noun singular for exactly 1, else plural (`many`, or plural_of(word))."""
    return f"{count} {word if count == 1 else many or plural_of(word)}"
