"""The seller: the vendor company that issues quotes, invoices and credit notes.

Its legal name, address, VAT number, company registration and bank details come from the
environment (``SELLER_*``); the defaults are demo values of a company in the EU (the Netherlands),
so ``make run`` prints complete documents without any setting:

``SELLER_NAME``, ``SELLER_ADDRESS`` (street lines, separated by ``|``), ``SELLER_POSTAL_CODE``,
``SELLER_CITY``, ``SELLER_COUNTRY`` (ISO 3166 alpha-2), ``SELLER_VAT_ID``,
``SELLER_REGISTRATION``, ``SELLER_EMAIL``, ``SELLER_BANK_NAME``, ``SELLER_IBAN``, ``SELLER_BIC``,
``SELLER_CODE`` (the short name the seller's document numbers are counted under).

An issued document keeps the seller as it was then (:meth:`Seller.as_dict` is stored with it).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

DEMO = {
    "name": "Portal Software B.V.",
    "address": "Herengracht 500",
    "postal_code": "1017 CB",
    "city": "Amsterdam",
    "country": "NL",
    "vat_id": "NL123456782B01",
    "registration": "Chamber of Commerce (KvK) 12345678",
    "email": "billing@portal-software.example",
    "bank_name": "ABN AMRO Bank N.V.",
    "iban": "NL91ABNA0417164300",
    "bic": "ABNANL2A",
    "code": "PS",
}


@dataclass(frozen=True)
class Seller:
    name: str
    address_lines: tuple[str, ...]
    postal_code: str
    city: str
    country: str
    vat_id: str
    registration: str
    email: str
    bank_name: str
    iban: str
    bic: str
    code: str = "PS"

    @classmethod
    def from_env(cls) -> Seller:
        def get(key: str) -> str:
            return os.environ.get(f"SELLER_{key.upper()}", DEMO[key]).strip()

        return cls(
            name=get("name"),
            address_lines=tuple(p.strip() for p in get("address").split("|") if p.strip()),
            postal_code=get("postal_code"),
            city=get("city"),
            country=get("country").upper(),
            vat_id=get("vat_id"),
            registration=get("registration"),
            email=get("email"),
            bank_name=get("bank_name"),
            iban=get("iban").replace(" ", ""),
            bic=get("bic"),
            code=get("code").upper(),
        )

    def as_dict(self) -> dict:
        data = asdict(self)
        data["address_lines"] = list(self.address_lines)
        return data


def seller_from(data: dict | None) -> dict:
    """A stored seller snapshot, or today's seller for a document issued before snapshots."""
    return dict(data) if data else Seller.from_env().as_dict()


def grouped_iban(iban: str) -> str:
    """``NL91ABNA0417164300`` as printed: ``NL91 ABNA 0417 1643 00``."""
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
