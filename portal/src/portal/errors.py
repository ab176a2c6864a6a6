"""One answer per kind of failure: the same 404 page for missing and not-yours, sign-in again
when the token expired, "try again" when the system does not answer, a fresh form when the CSRF
token is stale."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as HTTPNotFound

from portal import auth
from portal.gateway_client import ApiError, Forbidden, NotFound, RateLimited, Unauthorized


def not_found_page():
    return render_template("errors/404.html", error_page=True), 404


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPNotFound)
    @app.errorhandler(NotFound)
    @app.errorhandler(Forbidden)
    def _not_found(_exc):
        return not_found_page()

    @app.errorhandler(MethodNotAllowed)
    def _method(_exc):
        return not_found_page()

    @app.errorhandler(Unauthorized)
    def _signed_out(_exc):
        auth.sign_out_session()
        return auth.to_sign_in()

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return render_template(
            "errors/problem.html",
            title="The form expired",
            message="This form was open too long or came from elsewhere. Go back, reload the "
            "page and send it again.",
        ), 400

    @app.errorhandler(RateLimited)
    def _slow_down(exc):
        return render_template(
            "errors/problem.html", title="Too many requests", message=exc.message
        ), 429

    @app.errorhandler(ApiError)
    def _api(exc: ApiError):
        # Validation errors are handled by the page that sent the form; one that reaches here
        # is a conflict or the system not answering.
        if exc.status in (409, 422, 400):
            return render_template(
                "errors/problem.html", title="That did not work", message=exc.message
            ), exc.status
        app.logger.warning(
            "gateway %s on %s %s: %s", exc.status, request.method, request.path, exc.message
        )
        return render_template(
            "errors/problem.html",
            title="Please try again",
            message="The system did not answer in time. Wait a moment and try again.",
        ), 503
