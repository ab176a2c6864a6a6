"""The declarative base of license-assign's models, and its messaging tables (inbox, outbox)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from portal_runtime.db import messaging_models


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)
