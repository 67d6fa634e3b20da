"""Ingredient amounts and the exact arithmetic of an order's required ingredients.

An amount is grams when the JSON number is a float (``33.5``, ``8.0``) and a unit count when it is an
integer (``1``): the JSON type itself carries the unit, so it is read before anything can coerce it.
Grams are kept to the milligram (at most three decimals) and unit counts are whole; anything finer is
refused rather than rounded, so every product and sum below is exact and nothing is ever rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from servicekit.domain_errors import Conflict, Invalid

from .naming import ingredient_key

Unit = Literal["g", "unit"]
MAX_AMOUNT = 100_000  # grams or units per eater: a recipe above this is a typo
GRAM_DECIMALS = 3
GRAM_STEP = 0.001
MILLIGRAM = Decimal("0.001")


@dataclass(frozen=True)
class Amount:
    value: Decimal
    unit: Unit

    @classmethod
    def from_json(cls, raw: int | float, where: str) -> Amount:
        """``raw`` as the JSON parser gave it: ``int`` → units, ``float`` → grams."""

        def invalid(detail: str) -> Invalid:
            return Invalid(detail, code="invalid_amount", field=where)

        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise invalid(f"{where} must be a number: grams as a decimal (33.5) or a unit count as an integer (1).")
        if isinstance(raw, float) and not math.isfinite(raw):
            raise invalid(f"{where} must be a finite number.")
        if raw <= 0:
            raise invalid(f"{where} must be positive.")
        if raw > MAX_AMOUNT:
            raise invalid(f"{where} must be at most {MAX_AMOUNT}.")
        if isinstance(raw, int):
            return cls(Decimal(raw), "unit")
        # repr() is the shortest text that reads back as the same float: 33.5, not 33.5000000001. A float that
        # only binary noise keeps from a milligram (1.0010000000000001) is that milligram, within the tolerance
        # JSON Schema's multipleOf is checked with here (|x| / 1e9); anything finer is refused, never rounded.
        exact = Decimal(repr(raw))
        value = exact.quantize(MILLIGRAM)
        if value <= 0 or abs(exact - value) > Decimal(raw) / 10**9:
            raise invalid(f"{where}: grams are kept to the milligram; use at most {GRAM_DECIMALS} decimals.")
        return cls(value, "g")

    @classmethod
    def stored(cls, value: Decimal | str | int | float, unit: str) -> Amount:
        return cls(Decimal(str(value)), "g" if unit == "g" else "unit")

    def times(self, factor: int) -> Amount:
        return Amount(self.value * factor, self.unit)

    def plus(self, other: Amount, name: str) -> Amount:
        if other.unit != self.unit:
            raise Conflict(
                f"extra_ingredients.{name} is in {_unit_word(other.unit)} but the recipe counts {name} in "
                f"{_unit_word(self.unit)}; send it as {'a decimal (grams)' if self.unit == 'g' else 'an integer'}.",
                code="unit_mismatch",
                field=f"extra_ingredients.{name}",
                ingredient=name,
                recipe_unit=self.unit,
                given_unit=other.unit,
            )
        return Amount(self.value + other.value, self.unit)

    def as_json(self) -> int | float:
        """The JSON number that reads back as this amount and unit (``268.0`` grams, ``8`` units)."""
        return float(self.value) if self.unit == "g" else int(self.value)

    def text(self) -> str:
        """``268 g``, ``8.5 g``, ``8``: trailing zeros dropped, grams marked."""
        number = format(self.value.normalize(), "f")
        return f"{number} g" if self.unit == "g" else number


def _unit_word(unit: Unit) -> str:
    return "grams" if unit == "g" else "units"


def parse_ingredients(raw: dict[str, int | float], where: str) -> dict[str, Amount]:
    """Names normalised (case and spacing), amounts typed; two spellings of one ingredient are refused."""
    parsed: dict[str, Amount] = {}
    for name, value in raw.items():
        key = ingredient_key(name)
        if not key:
            raise Invalid(f"{where}: an ingredient name must not be blank.", code="invalid_name", field=where)
        if len(name) > 100:
            raise Invalid(f"{where}: ingredient names have at most 100 characters.", code="invalid_name", field=where)
        if key in parsed:
            raise Invalid(f"{where}: {key!r} appears twice.", code="duplicate_ingredient", field=where, ingredient=key)
        parsed[key] = Amount.from_json(value, f"{where}.{key}")
    return parsed


def required_ingredients(
    recipe: dict[str, Amount], persons: int, quantity: int, extras: dict[str, Amount]
) -> dict[str, Amount]:
    """Each recipe amount × persons × quantity, then each extra once (shared by all the cakes).

    The recipe's order first, then extras it does not already have, in the order they were given.
    """
    total = {name: amount.times(persons * quantity) for name, amount in recipe.items()}
    for name, extra in extras.items():
        total[name] = total[name].plus(extra, name) if name in total else extra
    return total


def sum_ingredients(orders: list[dict[str, Amount]]) -> list[tuple[str, Amount]]:
    """The daily batch: every order's required ingredients added up by name and unit, sorted by name.

    Two recipes may count one ingredient differently (eggs by the unit, eggs in grams): those stay two lines.
    """
    total: dict[tuple[str, Unit], Decimal] = {}
    for required in orders:
        for name, amount in required.items():
            total[(name, amount.unit)] = total.get((name, amount.unit), Decimal(0)) + amount.value
    return [(name, Amount(value, unit)) for (name, unit), value in sorted(total.items())]
