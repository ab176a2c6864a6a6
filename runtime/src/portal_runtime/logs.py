"""Structured JSON logs that say which service, request and event a line belongs to.

The request and event context lives in structlog's context variables, so any log call inside a
request or a message handler carries ``correlation_id`` and ``event_type`` without passing them.
"""

from __future__ import annotations

import logging
import sys

import structlog

bind = structlog.contextvars.bind_contextvars
unbind = structlog.contextvars.unbind_contextvars
clear = structlog.contextvars.clear_contextvars


def configure(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr, every one with ``service`` and the bound context."""
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper(), force=True)
    # Libraries log through stdlib logging; keep their chatter at warning level.
    for noisy in ("amqp", "kombu", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # Looked up per call, so a replaced sys.stderr (test capture, reopened logs) is honoured.
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get(name: str | None = None):
    return structlog.get_logger(name)
