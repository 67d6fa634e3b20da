"""Ids and addresses derived from names: the snake_case form used for cake ids, e-mail and Drive docs."""

from __future__ import annotations

import re
import unicodedata

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
# Latin letters that Unicode does not decompose into a base letter and an accent.
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)


def snake_case(name: str) -> str:
    """``Crème Brûlée`` → ``creme_brulee``; ``"  Lemon   Tart!! "`` → ``lemon_tart``.

    Accents are folded (NFKD, combining marks dropped), anything else that is not a letter or digit
    separates words, and the words are joined by one ``_``. Letters without an ASCII form vanish, so a
    name made only of them gives ``""`` (the caller refuses it).
    """
    folded = unicodedata.normalize("NFKD", name.translate(_LIGATURES))
    ascii_only = "".join(ch for ch in folded if not unicodedata.combining(ch)).encode("ascii", "ignore").decode()
    return "_".join(word for word in _NOT_ALNUM.split(ascii_only.lower()) if word)


def customer_email(customer: str) -> str:
    """Where the ready notice goes when the customer is not on the bakery's Slack."""
    return f"{snake_case(customer)}@gmail.com"


def ingredient_key(name: str) -> str:
    """Ingredients match whatever their case or spacing: ``Dark  Chocolate`` is ``dark chocolate``."""
    return " ".join(name.split()).lower()
