"""Domain errors: what a rule says when it refuses, with no HTTP in it.

Commands, handlers, queries and domain modules raise these; ``portal_runtime.problems`` maps them
to problem documents once, for every service (``NotFound`` 404, ``Conflict`` 409, ``Invalid``
422 with the field it names, ``Forbidden`` 403). An event handler that raises one is retried like
any other failure unless it raises ``portal_runtime.retry.Poison``.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the rules refuse; ``status`` is the HTTP status it maps to, ``title`` the
    problem's title (the status's phrase unless a subclass or the raiser names one)."""

    status = 400
    title: str | None = None

    def __init__(self, detail: str, *, errors: dict | None = None, title: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        if title is not None:
            self.title = title


class NotFound(DomainError):
    """Missing, or not the caller's: both answer the same, so nothing leaks across tenants."""

    status = 404

    def __init__(self, what: str = "resource"):
        super().__init__(f"No such {what}.")


class Conflict(DomainError):
    """The request is valid but the thing's state does not allow it (already cancelled, ...)."""

    status = 409


class Forbidden(DomainError):
    """The caller is who they say but may not do this (a role they lack)."""

    status = 403


class Invalid(DomainError):
    """A field's value breaks a rule: ``Invalid("po_number", "A PO number is required.")``."""

    status = 422

    def __init__(
        self,
        field: str | None = None,
        message: str | None = None,
        *,
        errors: dict | None = None,
        detail: str = "The request has invalid fields.",
    ):
        found = dict(errors or {})
        if field is not None:
            found.setdefault(field, []).append(message or "Invalid value.")
        super().__init__(detail, errors=found)
