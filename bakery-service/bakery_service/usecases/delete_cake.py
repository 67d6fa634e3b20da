"""Delete a cake, unless an open order needs it.

Placing an order shares the cake's row lock and deleting takes it exclusively, so an order cannot slip in
between the "no open orders" check and the delete.
"""

from __future__ import annotations

import logging

from servicekit.domain_errors import Conflict, NotFound

from ..adapters.unit_of_work import BakeryUnitOfWork
from ..metrics import CAKES

log = logging.getLogger("bakery_service.cakes")


def delete_cake(uow: BakeryUnitOfWork, cake_id: str) -> None:
    with uow:
        if uow.cakes.get(cake_id, lock="UPDATE") is None:
            raise NotFound(f"No cake has the id {cake_id!r}.")
        open_orders = uow.cakes.open_orders(cake_id)
        if open_orders:
            shown = ", ".join(f"#{i}" for i in open_orders[:10])
            raise Conflict(
                f"Open orders use {cake_id!r} ({shown}); cancel them or mark them ready first.",
                code="cake_in_use",
                cake_id=cake_id,
                open_orders=open_orders,
            )
        uow.cakes.delete(cake_id)
        uow.commit()
    CAKES.labels("deleted").inc()
    log.info("cake deleted", extra={"cake_id": cake_id})
