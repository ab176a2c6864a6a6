"""Notifications: every email the portal sends, once per cause and recipient."""

SERVICE = "notifications"
