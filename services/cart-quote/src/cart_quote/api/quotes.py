"""``/quotes``: Get Quote from the cart, the caller's quotes searched or one read (JSON or PDF),
and cancelling one."""

from __future__ import annotations

from flask import Blueprint, Response, request

from cart_quote import queries
from cart_quote.api.common import BUYING_ROLES, buyer_on, handle, reader, today
from cart_quote.commands import CancelQuote, IssueQuote
from cart_quote.models import Quote
from cart_quote.pdf import render_quote
from cart_quote.views import quote_view
from portal_contracts.api.quotes import GetQuoteRequest, QuoteSearchArgs
from portal_runtime.identity import Identity
from portal_runtime.web import current_identity, current_service, json_body, require_role, schema

bp = Blueprint("quotes", __name__)


@bp.post("/customers/<customer_id>/cart/quote")
def get_quote(customer_id: str):
    identity = buyer_on(customer_id)
    data = schema(GetQuoteRequest).load(json_body(optional=True))
    quote = handle(
        IssueQuote(
            identity,
            customer_id,
            end_user=data["end_user"],
            billing_address=data["billing_address"],
            po_number=data.get("po_number"),
        )
    )
    return quote_view(quote, today()), 201, {"Location": f"/api/v1/quotes/{quote.number}"}


@bp.get("/quotes")
def search_quotes():
    identity = reader()
    args = schema(QuoteSearchArgs).load(request.args.to_dict())
    on = today()
    with current_service().sessions() as session:
        rows, next_cursor = queries.search_quotes(
            session, identity, args, on, request.args.get("limit"), request.args.get("cursor")
        )
        items = [quote_view(q, on) for q in rows]
    return {"items": items, "next_cursor": next_cursor}


def pdf_response(quote: Quote, identity: Identity) -> Response:
    own = identity.is_reseller and identity.reseller_id == quote.reseller_id
    return Response(
        render_quote(quote, today(), identity.reseller_name if own else None),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{quote.number}.pdf"'},
    )


def wants_pdf() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "application/pdf"])
    return (
        best == "application/pdf"
        and request.accept_mimetypes["application/pdf"]
        > (request.accept_mimetypes["application/json"])
    )


@bp.get("/quotes/<number>")
def get_quote_by_number(number: str):
    identity = reader()
    with current_service().sessions() as session:
        quote = queries.find_quote(session, identity, number)
        if wants_pdf():
            return pdf_response(quote, identity)
        return quote_view(quote, today())


@bp.get("/quotes/<number>/pdf")
def get_quote_pdf(number: str):
    identity = reader()
    with current_service().sessions() as session:
        return pdf_response(queries.find_quote(session, identity, number), identity)


@bp.post("/quotes/<number>/cancel")
def cancel(number: str):
    identity = current_identity()
    require_role(identity, *BUYING_ROLES)
    quote = handle(CancelQuote(identity, number))
    return quote_view(quote, today())
