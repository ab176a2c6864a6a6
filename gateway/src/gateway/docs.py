"""``/api/v1/docs``: Swagger UI served from the installed ``swagger-ui-bundle`` package.

No CDN: the page, Swagger UI's script and style sheet and the script that starts it are all
answered by the gateway itself, so the docs render without internet access and under the same
Content-Security-Policy as every other answer (own scripts and styles only, nothing inline).
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from gateway.openapi import PREFIX

# Swagger UI's files the page uses (and their source maps, which browsers' tools ask for).
ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui.css.map",
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
# The page's own script (gateway/static): starts Swagger UI on the document the page names.
OWN_ASSETS = frozenset({"docs.js", "docs.css"})
ASSET_MAX_AGE = 24 * 3600

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Partner Portal API</title>
<link rel="stylesheet" href="{css}">
<link rel="stylesheet" href="{own_css}">
<link rel="icon" type="image/png" href="{icon}" sizes="32x32">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{spec}"></div>
<script src="{bundle}"></script>
<script src="{start}"></script>
</body>
</html>
"""

bp = Blueprint("docs", __name__, url_prefix=PREFIX, static_folder=None)


@bp.get("/docs")
def page():
    asset = lambda name: url_for("docs.asset", name=name)  # noqa: E731
    return PAGE.format(
        css=asset("swagger-ui.css"),
        own_css=asset("docs.css"),
        icon=asset("favicon-32x32.png"),
        bundle=asset("swagger-ui-bundle.js"),
        start=asset("docs.js"),
        spec=url_for("api-docs.openapi_json"),
    ), {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/docs/<name>")
def asset(name: str):
    if name in ASSETS:
        folder = swagger_ui_path
    elif name in OWN_ASSETS:
        folder = bp.root_path + "/static"
    else:
        abort(404)
    return send_from_directory(folder, name, max_age=ASSET_MAX_AGE)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
