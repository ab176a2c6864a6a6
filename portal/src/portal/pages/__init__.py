"""Every area of the portal is one blueprint here, registered by ``create_app``.

To add an area: write ``pages/<area>.py`` with ``bp = Blueprint("<area>", __name__,
url_prefix="/portal/...")``, put its templates in ``templates/<area>/`` and add ``bp`` below.
"""

from portal.pages import customers, home

BLUEPRINTS = [home.bp, customers.bp]
