"""Notification outbox, channels (transports) and delivery."""
