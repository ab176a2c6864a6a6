"""Catalog: products, bundles, price lists per currency and terms, partner discounts."""

SERVICE = "catalog"
