"""Carts with co-terming, pricing of lines, quotes (reseller and direct) and their PDFs."""

SERVICE = "cart-quote"
