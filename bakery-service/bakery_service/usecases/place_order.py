"""Place an order: its required ingredients computed exactly from the recipe (recipe × persons × quantity,
plus each extra once); in per-order mode, its own Jira ticket in the same transaction."""

from __future__ import annotations

import json
import logging

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.amounts import parse_ingredients, required_ingredients
from ..domain.models import Order, OrderCreate
from ..domain.records import order_from_row, stored_amounts, to_stored
from ..metrics import ORDERS
from .run_batch import open_batch

log = logging.getLogger("bakery_service.orders")


def place_order(uow: BakeryUnitOfWork, body: OrderCreate, *, jira_mode: str, public_base_url: str) -> Order:
    extras = parse_ingredients(body.extra_ingredients, "extra_ingredients")
    with uow:
        cake = uow.cakes.get(body.recipe, lock="SHARE")
        if cake is None:
            raise NotFound(
                f"recipe: no cake has the id {body.recipe!r} (GET /cakes lists them).",
                code="unknown_recipe",
                field="recipe",
                recipe=body.recipe,
            )
        recipe = dict(stored_amounts(cake["ingredients"]))
        required = required_ingredients(recipe, body.persons, body.quantity, extras)
        row = uow.orders.add(
            {
                "customer": body.customer.strip(),
                "recipe": cake["id"],
                "recipe_name": cake["name"],
                "persons": body.persons,
                "quantity": body.quantity,
                "extra": json.dumps(to_stored(extras)),
                "required": json.dumps(to_stored(required)),
            }
        )
        if jira_mode == "per-order":
            open_batch(uow, public_base_url, "order", "order", [row])
            row = uow.orders.get(row["id"]) or row  # now with its batch
        uow.commit()
    ORDERS.labels("placed").inc()
    log.info("order placed", extra={"order_id": row["id"], "recipe": row["recipe"], "quantity": row["quantity"]})
    return order_from_row(row)
