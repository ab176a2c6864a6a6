"""PDF and CSV answers from the API, passed to the browser as a download or inline."""

from __future__ import annotations

from flask import Response

from portal.gateway_client import Download


def send(download: Download, default_name: str, inline: bool = False) -> Response:
    name = download.filename or default_name
    kind = "inline" if inline else "attachment"
    return Response(
        download.content,
        mimetype=download.content_type.split(";")[0] or "application/octet-stream",
        headers={"Content-Disposition": f'{kind}; filename="{name}"', "Cache-Control": "no-store"},
    )
