"""Demo data of billing: Demo Reseller's stored card, vaulted like any other card."""

from __future__ import annotations

from sqlalchemy import select

from billing.commands import AddCard
from billing.models import PaymentMethod
from portal_contracts import demo

DEMO_TENANT = f"reseller:{demo.DEMO_RESELLER_ID}"


def seed(service) -> None:
    with service.uow() as uow:
        if uow.session.scalar(
            select(PaymentMethod.id).where(PaymentMethod.id == demo.DEMO_CARD_METHOD_ID)
        ):
            return
        today = service.clock.today()
        token = service.payments.vault_card(
            DEMO_TENANT,
            demo.SUCCESS_CARD,
            f"12/{(today.year + 3) % 100:02d}",
            "123",
            demo.DEMO_RESELLER_NAME,
        )
        service.handle(AddCard(DEMO_TENANT, token, method_id=demo.DEMO_CARD_METHOD_ID), uow=uow)
        uow.commit()
