"""A Flask test client that signs identities the way the gateway and services do.

Tests put ``identity_header(identity)`` where the real header would go; this client replaces it
with the identity signed for exactly that request (audience, method, path, body) with the
development key of its signer: the gateway for a user, the named service (or ``ops``) for a
``service`` identity. Only tests use it (``app.test_client()``); the signing keys are those the
embedded default generates under the var folder.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import asdict

from flask.testing import EnvironBuilder, FlaskClient
from werkzeug.wrappers import Request

from portal_runtime import identity as ids
from portal_runtime.keys import IdentityKeys, development_key

MARK = "unsigned-test-identity:"
ENVIRON_KEY = "HTTP_" + ids.HEADER.upper().replace("-", "_")


def identity_header(identity: ids.Identity) -> str:
    """A placeholder the signing test client turns into a real header."""
    body = dict(asdict(identity), roles=list(identity.roles), proof=None, via=None)
    return MARK + base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


def _identity(marker: str) -> ids.Identity:
    body = json.loads(base64.urlsafe_b64decode(marker[len(MARK) :]))
    body["roles"] = tuple(body["roles"])
    return ids.Identity(**body)


def signed_for(identity: ids.Identity, audience: str, method: str, path: str, query=b"", body=b""):
    signer = identity.name if identity.is_service else ids.ISSUER
    keys = IdentityKeys(signer, development_key(signer))
    return ids.sign(
        identity, keys, audience=audience, method=method, path=path, query=query, body=body
    )


class SigningClient(FlaskClient):
    def _request_from_builder_args(self, args, kwargs):
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base", {}))
        builder = EnvironBuilder(self.application, *args, **kwargs)
        try:
            environ = builder.get_environ()
        finally:
            builder.close()
        marker = environ.get(ENVIRON_KEY, "")
        if marker.startswith(MARK):
            body = environ["wsgi.input"].read()
            environ["wsgi.input"] = io.BytesIO(body)
            request = Request(environ)
            audience = self.application.extensions["portal.service"].config.service
            environ[ENVIRON_KEY] = signed_for(
                _identity(marker),
                audience,
                request.method,
                request.path,
                request.query_string,
                body,
            )
        return Request(environ)
