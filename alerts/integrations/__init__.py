"""Inbound alert integrations: each parses its sender's payload and hands alerts to ``alerts.services``."""
