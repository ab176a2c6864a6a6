"""Request and response schemas of the public HTTP API (API.md), one module per resource.

The gateway builds its OpenAPI document and validates requests with these; the service that owns
the resource validates with the same classes, so the rules are written once. Request schemas
reject unknown fields; server-owned fields (ids, prices, totals, statuses, owners) are
``dump_only`` and so can never be set from a body.
"""
