"""Every area of the portal is one blueprint here, registered by ``create_app``.

To add an area: write ``pages/<area>.py`` with ``bp = Blueprint("<area>", __name__,
url_prefix="/portal/...")``, put its templates in ``templates/<area>/`` and add ``bp`` below.
"""

from portal.pages import cart, customers, home, orders, quotes

BLUEPRINTS = [home.bp, customers.bp, cart.bp, quotes.bp, orders.bp]
