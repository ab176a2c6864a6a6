"""The gateway: the one HTTP entry for portal frontends."""

SERVICE = "gateway"
