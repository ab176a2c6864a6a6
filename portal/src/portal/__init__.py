"""The Partner Portal: server-rendered pages in front of the gateway's public API."""

SERVICE = "portal"
