"""Read the cake recipes."""

from __future__ import annotations

from servicekit.domain_errors import NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..domain.models import Cake
from ..domain.records import cake_from_row


def get_cake(uow: BakeryUnitOfWork, cake_id: str) -> Cake:
    with uow:
        row = uow.cakes.get(cake_id)
    if row is None:
        raise NotFound(f"No cake has the id {cake_id!r}.")
    return cake_from_row(row)


def list_cakes(uow: BakeryUnitOfWork) -> list[Cake]:
    with uow:
        return [cake_from_row(r) for r in uow.cakes.all()]
