"""Every area of the portal is one blueprint here, registered by ``create_app``.

To add an area: write ``pages/<area>.py`` with ``bp = Blueprint("<area>", __name__,
url_prefix="/portal/...")``, put its templates in ``templates/<area>/`` and add ``bp`` below.
"""

from portal.pages import (
    account,
    cart,
    customers,
    end_user,
    home,
    invoices,
    license_account,
    my_licenses,
    onboarding,
    orders,
    quotes,
    renewals,
)

BLUEPRINTS = [
    home.bp,
    customers.bp,
    cart.bp,
    renewals.bp,
    quotes.bp,
    orders.bp,
    invoices.bp,
    account.bp,
    onboarding.bp,
    license_account.bp,
    end_user.bp,
    my_licenses.bp,
]
