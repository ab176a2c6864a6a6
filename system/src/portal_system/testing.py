"""Helpers for end-to-end tests that drive a running system through the gateway and the sink."""

from __future__ import annotations

from email.message import EmailMessage

import requests

from portal_contracts import demo
from portal_runtime.http import ServiceClient
from portal_runtime.keys import IdentityKeys, development_key, parse_private_key, private_variable
from portal_system.client import PortalClient
from portal_system.launcher import System
from portal_system.mailsink import read_mails


def login(system: System, email: str, password: str = demo.DEMO_PASSWORD) -> PortalClient:
    return PortalClient.login(system.gateway_url, email, password)


def text_of(message: EmailMessage) -> str:
    """Subject and readable body of a mail (plain text preferred)."""
    part = message.get_body(preferencelist=("plain", "html"))
    return f"{message.get('Subject', '')}\n{part.get_content() if part else ''}"


def mails_to(system: System, recipient: str) -> list[EmailMessage]:
    """Mails the sink received for ``recipient`` (To or Cc), oldest first."""
    recipient = recipient.lower()
    return [
        message
        for message in read_mails(system.mail_dir)
        if recipient in ",".join(str(message.get(h, "")) for h in ("To", "Cc")).lower()
    ]


def mails_about(system: System, recipient: str, needle: str) -> list[EmailMessage]:
    """Mails to ``recipient`` whose subject or body mentions ``needle`` (an order number...)."""
    return [m for m in mails_to(system, recipient) if needle in text_of(m)]


def operator_keys(system: System) -> IdentityKeys:
    """The ``ops`` signing key of a running system (generated, or the development one)."""
    variable = private_variable("ops")
    text = system.env.get(variable)
    key = parse_private_key(text, variable) if text else development_key("ops", system.var_dir)
    return IdentityKeys("ops", key)


def as_operator(system: System, method: str, service: str, path: str, **kw) -> requests.Response:
    """A call to a service's operator route, signed as operators' tooling signs it."""
    client = ServiceClient(service, "ops", operator_keys(system), base_url=system.url(service))
    return client.request(method, path, **kw)
