"""Plain forms: what was typed, and a message per field that was not right.

Pages read ``request.form`` through a ``Form`` and render it back with the ``field`` macro
(``templates/_macros.html``), so every form shows its errors the same way: a summary at the top
linking to each field, and the message again next to the field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from portal.gateway_client import Invalid

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Form:
    def __init__(self, data: Mapping | None = None, **defaults):
        self.data = {**defaults, **{k: v for k, v in (data or {}).items()}}
        self.errors: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        return self.get(name)

    def get(self, name: str, default: str = "") -> str:
        value = self.data.get(name, default)
        return value if isinstance(value, str) else ("" if value is None else str(value))

    def value(self, name: str) -> str:
        return self.get(name).strip()

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def require(self, name: str, message: str) -> str:
        value = self.value(name)
        if not value:
            self.error(name, message)
        return value

    def email(self, name: str, message: str, required: bool = True) -> str:
        value = self.value(name)
        if not value:
            if required:
                self.error(name, message)
        elif not EMAIL.match(value):
            self.error(name, "Enter an email address like name@example.com.")
        return value

    def integer(self, name: str, message: str, minimum: int = 1, maximum: int = 10_000) -> int:
        value = self.value(name)
        try:
            number = int(value)
        except ValueError:
            self.error(name, message)
            return 0
        if not minimum <= number <= maximum:
            self.error(name, message)
        return number

    def date(self, name: str, message: str, required: bool = True) -> dt.date | None:
        value = self.value(name)
        if not value:
            if required:
                self.error(name, message)
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.error(name, message)
            return None

    def take_api_errors(self, errors: dict[str, list[str]], fields: Mapping[str, str]) -> None:
        """The API's field errors (``end_user.email``) on this form's fields (``email``); any
        the form has no field for go on ``fallback`` (the ``_form`` summary)."""
        for api_name, messages in errors.items():
            name = fields.get(api_name)
            if name is None:
                name = fields.get(api_name.split(".")[0], "_form")
            self.error(name, messages[0] if messages else "This is not valid.")


def search_page(form: Form, search, query: dict, fields) -> dict:
    """One page of a search's results (``{"items", "next_cursor"}``): none while ``form`` has
    errors of its own, and none when the API refuses the filters, its errors then shown on the
    form's ``fields`` (the API's names for them)."""
    if form.ok:
        try:
            return search(**query)
        except Invalid as exc:
            form.take_api_errors(exc.errors, {name: name for name in fields})
    return {"items": [], "next_cursor": None}
