"""Cake recipes: create (the id is the name in snake_case), read, delete unless an open order needs it."""

from __future__ import annotations

import logging

from .adapters import postgres as pg
from .adapters.postgres import BakeryStore
from .domain.amounts import parse_ingredients
from .domain.errors import Conflict, NotFound
from .domain.models import Cake, CakeCreate
from .domain.naming import snake_case
from .domain.records import cake_from_row
from .metrics import CAKES

log = logging.getLogger("bakery_service.cakes")


def create_cake(store: BakeryStore, body: CakeCreate) -> Cake:
    cake_id = snake_case(body.name)
    ingredients = parse_ingredients(body.ingredients, "ingredients")
    with store.begin() as conn:
        stored = [(name, str(a.value), a.unit) for name, a in ingredients.items()]
        if not pg.insert_cake(conn, cake_id, body.name.strip(), stored):
            raise Conflict(
                f"A cake with the id {cake_id!r} exists already.", code="cake_exists", field="name", cake_id=cake_id
            )
        row = pg.get_cake(conn, cake_id)
    CAKES.labels("created").inc()
    log.info("cake created", extra={"cake_id": cake_id})
    return cake_from_row(row)


def get_cake(store: BakeryStore, cake_id: str) -> Cake:
    with store.read() as conn:
        row = pg.get_cake(conn, cake_id)
    if row is None:
        raise NotFound(f"No cake has the id {cake_id!r}.")
    return cake_from_row(row)


def list_cakes(store: BakeryStore) -> list[Cake]:
    with store.read() as conn:
        return [cake_from_row(r) for r in pg.list_cakes(conn)]


def delete_cake(store: BakeryStore, cake_id: str) -> None:
    with store.begin() as conn:
        if pg.get_cake(conn, cake_id, lock="UPDATE") is None:
            raise NotFound(f"No cake has the id {cake_id!r}.")
        open_orders = pg.open_orders_of(conn, cake_id)
        if open_orders:
            shown = ", ".join(f"#{i}" for i in open_orders[:10])
            raise Conflict(
                f"Open orders use {cake_id!r} ({shown}); cancel them or mark them ready first.",
                code="cake_in_use",
                cake_id=cake_id,
                open_orders=open_orders,
            )
        pg.delete_cake(conn, cake_id)
    CAKES.labels("deleted").inc()
    log.info("cake deleted", extra={"cake_id": cake_id})
