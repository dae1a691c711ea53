"""Inbound webhooks of the on-call app: acknowledging a page from the signed link, Twilio (SMS, voice) and Slack."""
