"""A local webhook receiver for the demo: prints every notification the portal delivers.

`make run` starts it beside the portal and `seed_demo` points a platform
webhook channel at it (DEMO_WEBHOOK_URL), so a posted Alertmanager payload
ends in a delivered notification you can see here and on /ops/saturday/.
Usage: python scripts/webhook_sink.py [port]   (default 8025, loopback only)
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    """Answers 200 to any POST and prints the JSON body's event and title."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            data = json.loads(body)
            line = f"{data.get('event', '?')}: {data.get('title', '')}"
        except ValueError:
            line = f"{len(body)} bytes (not JSON)"
        print(f"webhook received {line}", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8025
    print(f"webhook sink listening on http://127.0.0.1:{port}/hook", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Sink).serve_forever()
