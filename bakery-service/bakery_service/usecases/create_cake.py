"""Create a cake recipe: the id is the name in snake_case."""

from __future__ import annotations

import logging

from servicekit.domain_errors import Conflict

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.amounts import parse_ingredients
from ..domain.models import Cake, CakeCreate
from ..domain.naming import snake_case
from ..domain.records import cake_from_row
from ..metrics import CAKES

log = logging.getLogger("bakery_service.cakes")


def create_cake(uow: BakeryUnitOfWork, body: CakeCreate) -> Cake:
    cake_id = snake_case(body.name)
    ingredients = parse_ingredients(body.ingredients, "ingredients")
    with uow:
        stored = [(name, str(a.value), a.unit) for name, a in ingredients.items()]
        row = uow.cakes.add(cake_id, body.name.strip(), stored)
        if row is None:
            raise Conflict(
                f"A cake with the id {cake_id!r} exists already.", code="cake_exists", field="name", cake_id=cake_id
            )
        uow.commit()
    CAKES.labels("created").inc()
    log.info("cake created", extra={"cake_id": cake_id})
    return cake_from_row(row)
