"""Shared runtime for the portal services.

Everything a service needs that is not its business: configuration, structured logs, the database
and unit of work, the delivery contract (outbox, relay, inbox, dead letters), the Flask pieces and
the command line. A service composes these in its own ``bootstrap`` module.
"""
