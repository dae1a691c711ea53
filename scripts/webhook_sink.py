"""A local sink for the demo: prints every notification and page the portal sends.

`make run` starts it beside the portal. It listens on two ports (loopback only):

- HTTP on PORT (default 8025): `seed_demo` points a platform webhook channel at `/hook`
  (DEMO_WEBHOOK_URL), and `scripts/run.sh` points Twilio's REST API (`/twilio`, SMS and voice
  pages) and Slack's Web API (`/slack`, direct messages) here. It answers 200 `{"ok": true}`.
- SMTP on PORT + 1 (default 8026): `scripts/run.sh` sets EMAIL_URL to it; each email page is
  printed with its acknowledge link.

Usage: python scripts/webhook_sink.py [port]
"""

import email
import email.policy
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


def describe(path: str, body: bytes) -> str:
    """One line for a request: a webhook's event and title, a Twilio SMS or call, a Slack message."""
    if path.startswith("/twilio") and path.endswith("/Messages.json"):
        form = parse_qs(body.decode())
        return f"twilio SMS to {form.get('To', ['?'])[0]}: {form.get('Body', [''])[0]}"
    if path.startswith("/twilio") and path.endswith("/Calls.json"):
        form = parse_qs(body.decode())
        return f"twilio voice call to {form.get('To', ['?'])[0]}: {form.get('Twiml', [''])[0]}"
    try:
        data = json.loads(body)
    except ValueError:
        return f"{path}: {len(body)} bytes (not JSON)"
    if path.startswith("/slack"):
        return f"slack message to {data.get('channel', '?')}: {data.get('text', '')}"
    return f"webhook received {data.get('event', '?')}: {data.get('title', '')}"


class Sink(BaseHTTPRequestHandler):
    """Answers 200 to any POST and prints what it was."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        print(describe(self.path, body), flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


class MailSink:
    """aiosmtpd handler: prints each message's recipients, subject and body."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        print(
            f"email to {', '.join(envelope.rcpt_tos)}: {message['Subject']}\n{body.get_content() if body else ''}",
            flush=True,
        )
        return "250 OK"


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8025
    try:
        from aiosmtpd.controller import Controller

        smtp = Controller(MailSink(), hostname="127.0.0.1", port=port + 1)
        smtp.start()
        print(f"mail sink listening on smtp://127.0.0.1:{port + 1}", flush=True)
    except ImportError:
        print("aiosmtpd is not installed: no mail sink", flush=True)
    print(f"webhook sink listening on http://127.0.0.1:{port}/hook (and /twilio, /slack)", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
