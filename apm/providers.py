"""Clients of the monitoring providers an ``ApmConfiguration`` polls.

Each client turns one HTTP exchange in the provider's documented format into
metric points ``{"service", "name", "value", "unit", "timestamp", "tags"}``
(the JSON ingest shape, validated by ``apm.services.metrics_validate``).
Failures raise ProviderError with a message safe to store and show: it
names the host and the HTTP status or the shape problem, never the
credentials or the full URL (query strings can carry keys).

Formats (as documented by each provider):

- prometheus, grafana: ``GET /api/v1/query?query=…&time=…`` (Prometheus
  HTTP API; Grafana through its data-source proxy base URL), answer
  ``{"status": "success", "data": {"resultType": "vector", "result":
  [{"metric": {labels}, "value": [epoch_s, "value"]}]}}``; credentials
  ``{"token"}`` (Bearer) or ``{"username", "password"}`` (Basic).
- datadog: ``GET /api/v1/query?from=&to=&query=`` with headers
  ``DD-API-KEY``/``DD-APPLICATION-KEY`` (credentials ``{"api_key",
  "app_key"}``), answer ``{"status": "ok", "series": [{"metric", "scope",
  "pointlist": [[epoch_ms, value], …]}]}``: the last non-null point.
- newrelic: NerdGraph ``POST /graphql`` with header ``API-Key``
  (credentials ``{"api_key", "account_id"}``), NRQL in ``query``; answer
  ``{"data": {"actor": {"account": {"nrql": {"results": [{…}]}}}}}``:
  each numeric field of each result row.
- pingdom: ``GET /api/3.1/checks/<query>`` with Bearer ``{"token"}``,
  answer ``{"check": {"name", "status", "lastresponsetime", "lasttesttime"}}``.
- uptime_robot: ``POST /v2/getMonitors`` form ``api_key``, ``format=json``,
  ``monitors=<query>``, answer ``{"stat": "ok", "monitors": [{"id",
  "friendly_name", "status", "average_response_time"}]}`` (status 2 = up).
- custom: ``GET <base_url>`` answering ``{"metrics": [points]}`` in this
  portal's own ingest format; optional Bearer ``{"token"}``.
"""

from __future__ import annotations

import datetime as dt
import math
import urllib.parse

import requests

from wedsync_ops.outbound import OutboundRefused, outbound_request


class ProviderError(Exception):
    """A poll failed; ``str()`` is safe to store in ``last_error`` and show to staff."""


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url[:60]


def _request(method: str, url: str, *, timeout: float, **kwargs):
    """One request through the portal's outbound client (``wedsync_ops.outbound``: public addresses, or
    ``OUTBOUND_ALLOW_PRIVATE_NETWORKS``, since staff configure providers; no redirects)."""
    try:
        response = outbound_request(method, url, timeout=timeout, trusted=True, **kwargs)
    except OutboundRefused as exc:
        raise ProviderError(f"refused to contact {_host(url)}: the URL {exc.reason}") from exc
    except requests.Timeout as exc:
        raise ProviderError(f"timed out after {timeout:g} s talking to {_host(url)}") from exc
    except requests.RequestException as exc:
        raise ProviderError(f"could not reach {_host(url)}: {type(exc).__name__}") from exc
    if response.status_code != 200:
        try:
            detail = _error_text(response.json(), "error")
        except ValueError:
            detail = ""
        raise ProviderError(f"HTTP {response.status_code} from {_host(url)}" + (f": {detail}" if detail else ""))
    try:
        return response.json()
    except ValueError as exc:
        raise ProviderError(f"{_host(url)} did not answer JSON") from exc


def _auth(credentials: dict) -> dict:
    if credentials.get("token"):
        return {"headers": {"Authorization": f"Bearer {credentials['token']}"}}
    if credentials.get("username"):
        return {"auth": (credentials["username"], credentials.get("password", ""))}
    return {}


def _error_text(body, key: str) -> str:
    """The provider's own error text under ``key`` (a string or ``{"message"}``), at most 200 characters."""
    error = body.get(key, "") if isinstance(body, dict) else ""
    if isinstance(error, dict):
        error = error.get("message", "")
    return str(error)[:200]


def _finite(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _point(config, name: str, value: float, *, at: float | None, tags: dict, unit: str = "") -> dict:
    point = {
        "service": config.service,
        "name": name[:200],
        "value": value,
        "unit": unit,
        "tags": {str(k)[:100]: str(v)[:200] for k, v in list(tags.items())[:32]},
    }
    if at is not None:
        point["timestamp"] = at
    return point


def poll_prometheus(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    url = config.base_url.rstrip("/") + "/api/v1/query"
    body = _request(
        "GET",
        url,
        timeout=config.timeout_seconds,
        params={"query": config.query, "time": f"{now.timestamp():.3f}"},
        **_auth(credentials),
    )
    if not isinstance(body, dict) or body.get("status") != "success":
        raise ProviderError(f"{_host(url)} answered an error: {_error_text(body, 'error')}")
    data = body.get("data") or {}
    if data.get("resultType") not in ("vector", "scalar"):
        raise ProviderError(f"query result type {str(data.get('resultType'))[:20]} is not vector or scalar")
    result = data.get("result")
    samples = [{"metric": {}, "value": result}] if data["resultType"] == "scalar" else result or []
    points = []
    for sample in samples:
        labels = dict(sample.get("metric") or {})
        at, raw = sample.get("value", [None, None])
        value = _finite(raw)
        if value is None:
            continue
        name = labels.pop("__name__", None) or config.name
        points.append(_point(config, name, value, at=_finite(at), tags=labels))
    return points


def poll_datadog(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    url = config.base_url.rstrip("/") + "/api/v1/query"
    end = int(now.timestamp())
    headers = {"DD-API-KEY": credentials.get("api_key", ""), "DD-APPLICATION-KEY": credentials.get("app_key", "")}
    body = _request(
        "GET",
        url,
        timeout=config.timeout_seconds,
        headers=headers,
        params={"from": end - max(60, config.poll_interval_seconds), "to": end, "query": config.query},
    )
    if not isinstance(body, dict) or body.get("status") != "ok":
        raise ProviderError(f"{_host(url)} answered an error: {_error_text(body, 'error')}")
    points = []
    for series in body.get("series") or []:
        pointlist = [p for p in series.get("pointlist") or [] if len(p) == 2 and _finite(p[1]) is not None]
        if not pointlist:
            continue
        at_ms, value = pointlist[-1]
        scope = {k: v for k, _, v in (s.partition(":") for s in str(series.get("scope", "")).split(",")) if v}
        points.append(
            _point(config, str(series.get("metric") or config.name), float(value), at=at_ms / 1000, tags=scope)
        )
    return points


def poll_newrelic(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    url = config.base_url.rstrip("/") + "/graphql"
    account = int(credentials.get("account_id") or 0)
    nrql = config.query.replace("\\", "\\\\").replace('"', '\\"')
    query = f'{{ actor {{ account(id: {account}) {{ nrql(query: "{nrql}") {{ results }} }} }} }}'
    body = _request(
        "POST",
        url,
        timeout=config.timeout_seconds,
        json={"query": query},
        headers={"API-Key": credentials.get("api_key", "")},
    )
    if body.get("errors"):
        raise ProviderError(f"NerdGraph error: {str(body['errors'][0].get('message', ''))[:200]}")
    try:
        rows = body["data"]["actor"]["account"]["nrql"]["results"]
    except (KeyError, TypeError) as exc:
        raise ProviderError("NerdGraph answer has no data.actor.account.nrql.results") from exc
    points = []
    for row in rows or []:
        at = _finite(row.get("endTimeSeconds"))
        for key, raw in row.items():
            value = None if key in ("beginTimeSeconds", "endTimeSeconds", "timestamp") else _finite(raw)
            if value is not None and not isinstance(raw, bool):
                points.append(_point(config, key, value, at=at, tags={}))
    return points


def poll_pingdom(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    url = config.base_url.rstrip("/") + f"/api/3.1/checks/{urllib.parse.quote(config.query.strip())}"
    body = _request("GET", url, timeout=config.timeout_seconds, **_auth(credentials))
    check = body.get("check") if isinstance(body, dict) else None
    if not isinstance(check, dict):
        raise ProviderError("Pingdom answer has no check")
    tags = {"check": str(check.get("name", config.query))}
    at = _finite(check.get("lasttesttime"))
    points = [_point(config, "pingdom.up", 1.0 if check.get("status") == "up" else 0.0, at=at, tags=tags)]
    if _finite(check.get("lastresponsetime")) is not None:
        points.append(
            _point(config, "pingdom.response_time", float(check["lastresponsetime"]), at=at, tags=tags, unit="ms")
        )
    return points


def poll_uptime_robot(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    url = config.base_url.rstrip("/") + "/v2/getMonitors"
    form = {"api_key": credentials.get("api_key", ""), "format": "json"}
    if config.query.strip():
        form["monitors"] = config.query.strip()
    body = _request("POST", url, timeout=config.timeout_seconds, data=form)
    if not isinstance(body, dict) or body.get("stat") != "ok":
        raise ProviderError(f"UptimeRobot error: {_error_text(body, 'error')}")
    points = []
    for monitor in body.get("monitors") or []:
        tags = {"monitor": str(monitor.get("friendly_name", monitor.get("id", "")))}
        up = 1.0 if monitor.get("status") == 2 else 0.0
        points.append(_point(config, "uptime_robot.up", up, at=None, tags=tags))
        if _finite(monitor.get("average_response_time")) is not None:
            points.append(
                _point(
                    config,
                    "uptime_robot.response_time",
                    float(monitor["average_response_time"]),
                    at=None,
                    tags=tags,
                    unit="ms",
                )
            )
    return points


def poll_custom(config, credentials: dict, *, now: dt.datetime) -> list[dict]:
    body = _request("GET", config.base_url, timeout=config.timeout_seconds, **_auth(credentials))
    points = body.get("metrics") if isinstance(body, dict) else None
    if not isinstance(points, list):
        raise ProviderError('the custom endpoint must answer {"metrics": [...]}')
    return [dict(p, service=p.get("service") or config.service) if isinstance(p, dict) else p for p in points]


PROVIDERS = {
    "prometheus": poll_prometheus,
    "grafana": poll_prometheus,
    "datadog": poll_datadog,
    "newrelic": poll_newrelic,
    "pingdom": poll_pingdom,
    "uptime_robot": poll_uptime_robot,
    "custom": poll_custom,
}
