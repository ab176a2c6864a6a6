"""Dates and money as the user's locale writes them (Babel), amounts always with their currency.

The locale is the first of the browser's ``Accept-Language`` that Babel knows; templates use the
filters ``money``, ``date`` and ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency
from flask import Flask, current_app, g, has_request_context, request


def user_locale() -> Locale:
    if has_request_context() and "locale" in g:
        return g.locale
    locale = None
    if has_request_context():
        for tag, _quality in request.accept_languages:
            try:
                locale = Locale.parse(tag.replace("-", "_"))
            except (ValueError, UnknownLocaleError):
                continue
            if locale.territory is None:
                # "de" alone: Babel's likely territory, so currencies and dates format fully.
                locale = Locale.parse(tag, sep="-") if "-" in tag else locale
            break
    if locale is None:
        locale = Locale.parse(current_app.config["PORTAL"].default_locale)
    if has_request_context():
        g.locale = locale
    return locale


def money(amount, currency: str | None = None) -> str:
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    return format_currency(value, currency or "USD", locale=user_locale())


def _as_date(value):
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def date(value, style: str = "medium") -> str:
    day = _as_date(value)
    return format_date(day, format=style, locale=user_locale()) if day else ""


def datetime(value, style: str = "medium") -> str:
    if isinstance(value, str) and value:
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return ""
    return format_datetime(value, format=style, locale=user_locale())


def init_app(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(date, "date")
    app.add_template_filter(datetime, "datetime")
    app.add_template_global(lambda: str(user_locale()).replace("_", "-"), "lang")
