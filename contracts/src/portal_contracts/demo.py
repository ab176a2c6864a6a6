"""Identifiers of the demo data (API.md, "Demo data"), shared by every service's seed.

The seeds run per service, each into its own database; these constants are what makes the
reseller in the gateway, its discount in the catalog and its card in billing the same reseller.
"""

import uuid

DEMO_RESELLER_ID = "RS-1001"
DEMO_RESELLER_NAME = "Demo Reseller"
DEMO_RESELLER_USER = "sales@demo-reseller.example"
OTHER_RESELLER_ID = "RS-1002"
OTHER_RESELLER_NAME = "Other Reseller"
OTHER_RESELLER_USER = "sales@other-reseller.example"
DEMO_PASSWORD = "demo-password"
CURRENCY = "USD"

ACME_ID = "C-100001"
ACME_NAME = "Acme Corp"
ACME_CONTACT = "it@acme.example"
ACME_ADMIN = "admin@acme.example"
GLOBEX_ID = "C-100002"
GLOBEX_NAME = "Globex"
GLOBEX_CONTACT = "licensing@globex.example"

PRODUCTS = {
    "II": "IntelliJ IDEA Ultimate",
    "PC": "PyCharm Professional",
    "WS": "WebStorm",
    "RM": "RubyMine",
    "ALL": "All Products Pack",
}

# The provider's standard always-succeeds and always-declined test cards.
SUCCESS_CARD = "4111111111111111"
DECLINED_CARD = "4000000000000002"
DEMO_CARD_METHOD_ID = "pm-demo-card"


def user_id_of(email: str) -> str:
    """The stable id of a demo user (``U-…``), the same on every machine and in every service
    that knows the person (the gateway's sign-in, license-assign's account admins)."""
    return "U-" + uuid.uuid5(uuid.NAMESPACE_URL, f"portal-user:{email}").hex[:12]
