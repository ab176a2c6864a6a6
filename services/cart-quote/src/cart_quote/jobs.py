"""Cart-quote's scheduled work: the sweep of idle carts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from cart_quote.models import Cart, CartStatus
from portal_runtime.service import Job


def expire_idle_carts(service) -> int:
    """Close every open cart idle past ``cart_idle_days``; how many it closed (500 at most a run).

    Reads and writes expire an idle cart on their own; the sweep keeps the table honest for carts
    nobody opens again.
    """
    now = service.clock.now()
    cutoff = now - dt.timedelta(days=service.config.cart_idle_days)
    with service.uow(correlation_id="job-expire-idle-carts") as uow:
        carts = list(
            uow.session.scalars(
                select(Cart).where(Cart.open_slot.is_not(None), Cart.updated_at < cutoff).limit(500)
            )
        )
        for cart in carts:
            cart.close(CartStatus.EXPIRED, now)
        uow.commit()
    return len(carts)


JOBS = (Job("expire-idle-carts", 3600, expire_idle_carts),)
