"""The OpenAPI document: flask-smorest, with the platform's problem+json errors and bearer auth.

Every route of the route table is documented from its ``Route`` row: the same marshmallow classes
that validate requests describe them here.
"""

from __future__ import annotations

from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from flask_smorest import Api
from marshmallow import Schema, fields

from gateway.routes import Route

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"
ERROR_TEXT = {
    401: "No valid bearer token",
    403: "The caller's role does not allow this",
    404: "No such object, or not the caller's",
    409: "The object's state does not allow this",
    410: "It existed but has expired",
    413: "The request body is larger than 1 MiB",
    422: "Invalid fields (per-field `errors`)",
    429: "Rate limited; see Retry-After",
    503: "A service behind the gateway is not answering; see Retry-After",
}


class ProblemSchema(Schema):
    """An error, RFC 9457 (every error response of every route)."""

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    errors = fields.Dict()


def schema_name(schema) -> str:
    """Component names; a class whose plain name another module uses too gets its module's."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = resolver(schema)
    taken = _NAMES.setdefault(name, cls)
    if taken is not cls:
        module = cls.__module__.rsplit(".", 1)[-1].rstrip("s").title().replace("_", "")
        return module + name
    return name


_NAMES: dict[str, type] = {}


def new_api(app) -> Api:
    plugin = MarshmallowPlugin(schema_name)
    api = GatewayApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    plugin.converter.add_attribute_function(decimal_as_string)
    return api


def decimal_as_string(self, field, **kwargs) -> dict:
    """Money travels as a string decimal (``Decimal(as_string=True)``); say so in the document."""
    if isinstance(field, fields.Decimal) and field.as_string:
        return {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"}
    return {}


class GatewayApi(Api):
    # Errors are answered by portal_runtime.problems (problem+json), not flask-smorest's shape.
    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        self.spec.components.schema("Problem", schema=ProblemSchema)
        self.spec.components.response(
            "Problem",
            {"description": "An error", "content": {PROBLEM: {"schema": "Problem"}}},
        )


def configure(app) -> None:
    app.config.update(
        API_TITLE="Partner Portal API",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The one public entry of the reseller Partner Portal and the "
                "customer license account. Errors are application/problem+json.",
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
        },
    )


def problem_response(status: int, headers: dict | None = None) -> dict:
    response = {
        "description": ERROR_TEXT.get(status, "An error"),
        "content": {PROBLEM: {"schema": "Problem"}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "Any unique string per order; retrying with the same key and body answers the "
    "same order instead of placing another (kept at least 24 hours, per reseller)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
}


def operation(route: Route) -> dict:
    doc: dict = {
        "summary": route.summary,
        "operationId": route.endpoint,
        "security": [] if route.public else [{"bearerAuth": []}],
    }
    parameters: list[dict] = []
    if route.query is not None:
        parameters.append({"in": "query", "schema": route.query})
    if route.idempotency_key:
        parameters.append(IDEMPOTENCY_KEY)
    if parameters:
        doc["parameters"] = parameters
    if route.body is not None:
        content = {"application/json": {"schema": route.body}}
        for media in route.accepts:
            content[media] = {"schema": {"type": "string"}}
        doc["requestBody"] = {"required": True, "content": content}
    success: dict = {"description": route.summary}
    content = {}
    if route.response is not None:
        content["application/json"] = {"schema": route.response}
    for media in route.produces:
        content[media] = {"schema": {"type": "string", "format": "binary"}}
    if content:
        success["content"] = content
    if route.status == 201:
        success["headers"] = {
            "Location": {"schema": {"type": "string"}, "description": "The new resource"}
        }
    responses = {str(route.status): success}
    if route.accepted is not None:
        responses["202"] = {
            "description": "Accepted: the work goes on; follow the Location for its progress",
            "content": {"application/json": {"schema": route.accepted}},
            "headers": {"Location": {"schema": {"type": "string"}, "description": "The job"}},
        }
    codes = set(route.errors)
    if not route.public:
        codes |= {401, 403}
    if "{" in route.path or route.customer_in != "none":
        codes.add(404)
    if route.body is not None or route.query is not None:
        codes.add(422)
    if route.body is not None:
        codes.add(413)
    if route.rate_limit:
        codes.add(429)
    if route.service != "gateway" or route.customer_in != "none":
        codes.add(503)
    for code in sorted(codes):
        responses[str(code)] = problem_response(code, RETRY_AFTER if code in (429, 503) else None)
    responses["default"] = "Problem"
    doc["responses"] = responses
    return doc
