"""Text folding and stemming for search: case- and Latvian-diacritic-insensitive matching
that also lets declined forms ("Jelgavas", "Jelgavā") find the nominative ("Jelgava")."""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[0-9a-z]+")

# Latvian noun and adjective endings after folding (ā→a …), longest first. Dropping one of
# them from a long enough word gives a stem shared by the word's case forms.
_ENDINGS = tuple(
    sorted(
        {
            "ajiem", "ajam", "ajai", "ajos", "ajas", "ajie", "ajo",
            "iem", "ijas", "ija", "ijai", "iju", "ies", "ais", "ei",
            "am", "ai", "as", "os", "us", "es", "is", "im", "um", "em", "ie",
            "a", "e", "i", "o", "s", "u",
        },
        key=len,
        reverse=True,
    )
)
MIN_STEM = 3


def fold(text: str) -> str:
    """Lower case without diacritics: ``fold("Jelgavas pilsētas DOME") == "jelgavas pilsetas dome"``.

    >>> fold("Ķeguma Ļoti Ņiprā Žurka")
    'keguma loti nipra zurka'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def words(text: str) -> list[str]:
    """Folded words of ``text`` (letters and digits; punctuation and quotes split words)."""
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """``word`` (already folded) without one common Latvian ending, if a stem of at least
    three letters remains.

    >>> stem("jelgavas"), stem("jelgava"), stem("pilsetas"), stem("km")
    ('jelgav', 'jelgav', 'pilset', 'km')
    """
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def normalise(text: str) -> str:
    """The folded words of ``text`` joined by single spaces."""
    return " ".join(words(text))
