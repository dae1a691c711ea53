"""gunicorn's logs as JSON lines, like the rest of the portal (``gunicorn.conf.py``: ``logger_class``)."""

from __future__ import annotations

import datetime as dt
import json
import logging

from gunicorn import glogging

from wedsync_ops.logconfig import json_formatter, redact_text


class JsonLogger(glogging.Logger):
    """gunicorn's error log through the portal's JSON formatter; one JSON object per access.

    Access fields: ``remote``, ``method``, ``path`` (query secrets masked), ``status``, ``bytes``,
    ``duration_ms``, ``user_agent`` and ``request_id`` (the proxy's ``X-Request-ID``, when it sends one).
    """

    def setup(self, cfg):
        super().setup(cfg)
        spec = dict(json_formatter())
        factory = spec.pop("()")
        formatter = factory(**spec)
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)
        for handler in self.access_log.handlers:
            handler.setFormatter(logging.Formatter("%(message)s"))

    def access(self, resp, req, environ, request_time):
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict or self.cfg.syslog):
            return
        query = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        line = {
            "event": "access",
            "level": "info",
            "logger": "gunicorn.access",
            "timestamp": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
            "remote": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": redact_text(path),
            "status": resp.status_code if hasattr(resp, "status_code") else int(str(resp.status).split()[0]),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        if environ.get("HTTP_X_REQUEST_ID"):
            line["request_id"] = environ["HTTP_X_REQUEST_ID"][:100]
        try:
            self.access_log.info(json.dumps(line))
        except Exception:  # noqa: BLE001 - gunicorn's own behaviour: an access line never fails a request
            self.error("could not write an access log line")
