"""Email is configured from the environment (EMAIL_URL, DEFAULT_FROM_EMAIL): a fresh process sends through it."""

import subprocess
import sys

from aiosmtpd.controller import Controller
from django.conf import settings

from tests.conftest import _Inbox
from tests.processes import free_port


def test_email_url_and_sender_come_from_the_environment():
    port = free_port()
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        import os

        env = dict(
            os.environ,
            EMAIL_URL=f"smtp://127.0.0.1:{port}",
            DEFAULT_FROM_EMAIL="WedSync Ops <ops@ws.example>",
            EMAIL_TIMEOUT="5",
        )
        result = subprocess.run(
            [sys.executable, "manage.py", "sendtestemail", "oncall@florist.example"],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message.mail_from == "ops@ws.example" and message.rcpt_tos == ["oncall@florist.example"]


def test_the_default_bounds_every_smtp_conversation():
    assert 0 < settings.EMAIL_TIMEOUT <= 30
