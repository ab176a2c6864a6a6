"""Demo data of the orders service: none of its own.

Orders exist only once someone places them (checkout, a quote, ``POST /orders``); seeding an
order here would bypass billing and licensing, which learn of orders from ``orders.order.placed``.
The function exists so ``make run`` treats every service alike; it changes nothing, twice.
"""

from __future__ import annotations


def seed(service) -> None:
    return None
