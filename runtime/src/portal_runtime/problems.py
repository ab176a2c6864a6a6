"""Errors as ``application/problem+json`` (RFC 9457), the one error shape of every API.

Views may raise ``Problem`` for what is HTTP's own (a header, a content type); every rule of the
domain raises a ``portal_runtime.errors`` error instead, mapped here once.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, json
from marshmallow import ValidationError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from portal_runtime import logs
from portal_runtime.errors import DomainError

CONTENT_TYPE = "application/problem+json"
# How long a caller is asked to wait when the database does not answer (a restart takes seconds).
DATABASE_RETRY_AFTER = 5


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: dict | None = None,
        type: str = "about:blank",
        headers: dict | None = None,
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.errors = errors
        self.type = type
        self.headers = headers or {}


def not_found(what: str = "resource") -> Problem:
    # One answer for "missing" and "not yours": the caller learns nothing about other tenants.
    return Problem(404, f"No such {what}.")


def conflict(detail: str) -> Problem:
    return Problem(409, detail)


def invalid(errors: dict, detail: str = "The request has invalid fields.") -> Problem:
    return Problem(422, detail, errors=errors)


def response(problem: Problem) -> Response:
    body = {"type": problem.type, "title": problem.title, "status": problem.status}
    if problem.detail:
        body["detail"] = problem.detail
    if problem.errors is not None:
        body["errors"] = problem.errors
    resp = Response(json.dumps(body), status=problem.status, mimetype=CONTENT_TYPE)
    for key, value in problem.headers.items():
        resp.headers[key] = value
    return resp


def database_unavailable(exc: BaseException) -> bool:
    """Whether a database error means the server is down or unreachable, not a bad statement."""
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came free in time
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, (sa_exc.OperationalError, sa_exc.InterfaceError)
        )
    return False


def register(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return response(exc)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        return response(Problem(exc.status, exc.detail, errors=exc.errors, title=exc.title))

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return response(invalid(messages))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        # flask-smorest/webargs put validation messages on the exception's data.
        data = getattr(exc, "data", None) or {}
        errors = data.get("messages")
        if exc.code == 422 and errors:
            flat = {}
            for location in errors.values():
                flat.update(location if isinstance(location, dict) else {"_schema": location})
            return response(invalid(flat))
        detail = exc.description if exc.code != 404 else "No such resource."
        problem = Problem(exc.code or 500, detail)
        if exc.code == 405 and exc.get_response().headers.get("Allow"):
            problem.headers["Allow"] = exc.get_response().headers["Allow"]
        return response(problem)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            logs.get().error(
                "request.database_unavailable",
                error=type(getattr(exc, "orig", None) or exc).__name__,
            )
            return response(
                Problem(
                    503,
                    "The service's database is not answering; please try again shortly.",
                    headers={"Retry-After": str(DATABASE_RETRY_AFTER)},
                )
            )
        logs.get().exception("request.failed", error=type(exc).__name__)
        return response(Problem(500, "Something went wrong on our side; it has been logged."))
