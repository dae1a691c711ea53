"""The portal's one outbound HTTP client: every request it makes to an address somebody configured.

Notification channels, on-call paging, provider polling, service health checks and heartbeat pings
all send through ``outbound_request``; forms that take such a URL check it with
``outbound_url_problem``, the same rules the client applies, so a form never accepts what the client
would refuse. Usage::

    from wedsync_ops.outbound import OutboundRefused, outbound_request, outbound_url_problem

    response = outbound_request("POST", url, timeout=10.0, trusted=False, json={"text": "hello"})

The rules (server-side request forgery, OWASP's SSRF prevention cheat sheet):

- The URL is ``http`` or ``https`` with a host; no userinfo (``user@``), no backslash, whitespace or
  control character anywhere, a port from 1 to 65535, no percent-encoding in the host, no IPv6 zone.
  urllib3 (which sends) and ``urllib.parse`` (which checks) must read the same host, or the URL is
  refused as ambiguous (``https://127.0.0.1:1\\@hooks.slack.com/`` reads as two different hosts).
- An IPv4 literal must be four decimal numbers: ``2130706433``, ``0x7f000001``, ``0177.0.0.1``,
  ``127.1`` and ``0`` are addresses to the system resolver (``inet_aton``), so they are refused as a
  notation rather than decoded. IPv6 literals are checked as the address they are, including the
  IPv4 address an IPv4-mapped one carries (``::ffff:127.0.0.1``).
- Names this machine answers for locally are refused without asking DNS: ``localhost`` (with or
  without the final dot) and ``*.localhost`` (RFC 6761), ``ip6-localhost``, ``ip6-loopback``,
  ``*.local`` (mDNS), ``*.internal`` (cloud metadata names such as ``metadata.google.internal``),
  ``*.localdomain``, ``*.home.arpa`` and the machine's own host names.
- Every address the host resolves to (``socket.getaddrinfo``) must be public: not loopback,
  private (RFC 1918, ULA), link-local (``169.254.169.254``: cloud metadata), multicast, unspecified,
  reserved, shared (CGNAT ``100.64.0.0/10``), nor in the special ranges requests-hardened keeps
  (``requests_hardened.ip_filter.EXTRA_BLOCKED_NET_RANGES``: NAT64, 6to4, ORCHID…), unless it lies in
  an allowed network (below). The connection then goes to the first address that was checked: the
  host is resolved once per request and never again (a DNS answer that changes between the check and
  the connection, "DNS rebinding", cannot redirect it). The ``Host`` header, TLS SNI and certificate
  check still use the name. This is requests-hardened's ``IPFilterAdapter`` approach, with an
  allow-list of networks in place of its loopback switch.
- No redirects (a 3xx is returned as it is), no proxy or ``.netrc`` from the environment, and at
  most ``OUTBOUND_MAX_RESPONSE_BYTES`` of the response body are read.

Allowed networks: ``trusted=True`` requests (targets configured by staff: platform channels, the
PagerDuty and Twilio API bases, provider polling, health checks) may reach the CIDRs of
``settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS`` (e.g. a private Alertmanager or Prometheus);
``trusted=False`` requests (targets a vendor typed) only those of
``settings.OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS``, empty in production (tests and a single-host demo
list their loopback receivers there).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened import Config as HardenedConfig
from requests_hardened import HTTPSession
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from urllib3.util import parse_url

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

BLOCKED_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback", "localhost.localdomain", "broadcasthost"})
BLOCKED_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
DEFAULT_PORTS = {"http": 80, "https": 443}
_BAD_CHARACTER = re.compile(r"[\x00-\x20\x7f\\]")
# What inet_aton reads as an IPv4 address: 1 to 4 dot-separated decimal, octal or 0x-hex numbers.
_INET_ATON_FORM = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)


class OutboundRefused(requests.exceptions.InvalidURL):
    """The destination was refused before any connection was made.

    ``reason``: a fixed text naming the rule (e.g. "points at a loopback address"), safe to show to
    whoever typed the URL; ``detail``: what was found (the address), for staff.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.reason = reason
        self.detail = detail


@functools.lru_cache(maxsize=16)
def _parse_networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(c.strip(), strict=False) for c in cidrs if c.strip())


def allowed_networks(*, trusted: bool) -> tuple:
    """The networks a request may reach although they are not public (see the module docstring)."""
    name = "OUTBOUND_ALLOW_PRIVATE_NETWORKS" if trusted else "OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS"
    return _parse_networks(tuple(getattr(settings, name, ()) or ()))


def address_problem(ip: IPAddress, *, allow=()) -> str:
    """Why the portal may not connect to ``ip``, or ``""``. ``allow``: networks allowed all the same.

    An IPv4-mapped IPv6 address (``::ffff:a.b.c.d``) is judged as its IPv4 address.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allow):
        return ""
    if ip.is_unspecified:
        return "points at the unspecified address"
    if ip.is_loopback:
        return "points at a loopback address"
    if ip.is_link_local:
        return "points at a link-local address (cloud metadata lives there)"
    if ip.is_multicast:
        return "points at a multicast address"
    if ip.is_private:
        return "points at a private network"
    if ip.is_reserved or not ip.is_global or any(ip.version == n.version and ip in n for n in EXTRA_BLOCKED_NET_RANGES):
        return "points at a reserved or special-purpose address"
    return ""


def _own_names() -> frozenset[str]:
    names = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.add(name.lower().rstrip("."))
    return frozenset(names)


def _host_problem(host: str) -> str:
    """Refusals that need no DNS: the host's notation and names that are this machine."""
    if "%" in host:
        return "has a percent-encoded host or an IPv6 zone"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if ip is not None:
        return ""
    if _INET_ATON_FORM.match(host):
        return "writes an IP address in a notation other than four decimal numbers (a.b.c.d)"
    name = host.lower().rstrip(".")
    if not name:
        return "has no host"
    if name in BLOCKED_NAMES or name.endswith(BLOCKED_SUFFIXES) or name in _own_names():
        return "names this machine or a local-only domain"
    return ""


def _split(url) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an acceptable URL; raises OutboundRefused naming the rule."""
    if not isinstance(url, str) or not url:
        raise OutboundRefused("is not a URL")
    if _BAD_CHARACTER.search(url):
        raise OutboundRefused("contains a backslash, a space or a control character")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise OutboundRefused("must be an http:// or https:// URL")
    if not parts.netloc:
        raise OutboundRefused("has no host")
    if "@" in parts.netloc:
        raise OutboundRefused("may not contain a user name or password (user@host)")
    if "%" in parts.netloc:
        raise OutboundRefused("has a percent-encoded host or an IPv6 zone")
    try:
        port = parts.port
    except ValueError:
        raise OutboundRefused("has an invalid port (1 to 65535)") from None
    if port is not None and not 1 <= port <= 65535:
        raise OutboundRefused("has an invalid port (1 to 65535)")
    host = (parts.hostname or "").strip("[]")
    try:
        sent_to = (parse_url(url).host or "").strip("[]").lower()
    except ValueError:
        sent_to = None
    if not host or sent_to != host.lower():
        raise OutboundRefused("is ambiguous: its host reads differently to different URL parsers")
    problem = _host_problem(host)
    if problem:
        raise OutboundRefused(problem, host)
    return scheme, host, port or DEFAULT_PORTS[scheme]


def resolve_checked(host: str, port: int, *, allow=()) -> IPAddress:
    """Resolve ``host`` once and return the address to connect to; raises OutboundRefused.

    Every address of the answer must pass ``address_problem`` (a name with one private address
    among public ones is refused); the first is returned. A name that does not resolve raises
    ``requests.ConnectionError`` (temporary: DNS may come back).
    """
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        candidates = [literal]
    else:
        try:
            answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise requests.ConnectionError(f"could not resolve {host}: {exc}") from None
        candidates = [
            ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
            for family, _type, _proto, _name, sockaddr in answers
            if family in (socket.AF_INET, socket.AF_INET6)
        ]
        if not candidates:
            raise requests.ConnectionError(f"{host} has no IPv4 or IPv6 address")
    for ip in candidates:
        problem = address_problem(ip, allow=allow)
        if problem:
            raise OutboundRefused(problem, f"{host} is {ip}" if literal is None else str(ip))
    return candidates[0]


def outbound_url_problem(url, *, trusted: bool, require_https: bool = False, resolve: bool = True) -> str:
    """Why ``url`` cannot be an outbound target, or ``""``: the client's own rules, for forms.

    ``require_https``: vendors' channels must be https. ``resolve``: also resolve the host now and
    check its addresses (a name that does not resolve yet is not refused here: the client checks
    again at every request, and DNS may be down for a moment).
    """
    try:
        scheme, host, port = _split(url)
        if require_https and scheme != "https":
            return "must be an https:// URL"
        if resolve:
            resolve_checked(host, port, allow=allowed_networks(trusted=trusted))
    except OutboundRefused as exc:
        return exc.reason
    except requests.ConnectionError:
        return ""
    return ""


class PinnedAddressAdapter(HTTPAdapter):
    """A requests adapter that resolves and checks the host, then connects to that very address.

    The pool is keyed by the checked IP; ``Host``, SNI and the certificate's host name stay the
    URL's (requests-hardened's ``IPFilterAdapter``, with ``allow`` networks).
    """

    def __init__(self, *, allow=(), **kwargs):
        super().__init__(**kwargs)
        self.allow = allow

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, host, port = _split(request.url)
        ip = resolve_checked(host, port, allow=self.allow)
        request.headers = CaseInsensitiveDict(request.headers or {})
        shown = f"[{host}]" if ":" in host else host
        explicit_port = urlsplit(request.url).port
        request.headers["Host"] = f"{shown}:{explicit_port}" if explicit_port else shown
        if scheme == "https":
            pool_kwargs["assert_hostname"] = host
            pool_kwargs["server_hostname"] = host
        host_params["host"] = f"[{ip}]" if ip.version == 6 else str(ip)
        host_params["port"] = port
        return host_params, pool_kwargs

    def get_connection(self, url, proxies=None):  # pragma: no cover - requests < 2.32 only
        raise NotImplementedError("requests >= 2.32.2 calls get_connection_with_tls_context")


def outbound_session(*, trusted: bool) -> requests.Session:
    """A ``requests.Session`` that follows every rule above (no redirects, no environment, pinned).

    For callers that send several requests to one target; ``outbound_request`` makes its own.
    """
    # requests-hardened's session: never follows a redirect, always has a timeout (10 s if none given).
    session = HTTPSession(
        HardenedConfig(
            ip_filter_enable=False,
            ip_filter_allow_loopback_ips=False,
            never_redirect=True,
            default_timeout=(10.0, 10.0),
        )
    )
    session.trust_env = False  # no HTTP(S)_PROXY, no .netrc credentials
    adapter = PinnedAddressAdapter(allow=allowed_networks(trusted=trusted))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def outbound_request(method: str, url: str, *, timeout, trusted: bool, **kwargs) -> requests.Response:
    """Send one request under the rules of this module; returns the response (any status).

    ``timeout``: seconds, or ``(connect, read)`` (required). ``trusted``: the target was configured
    by staff (see the module docstring). Other keyword arguments go to ``requests`` (``json``,
    ``data``, ``headers``, ``params``, ``auth``); ``allow_redirects``, ``proxies``, ``stream`` and
    ``verify=False`` are not accepted. The body is cut to ``settings.OUTBOUND_MAX_RESPONSE_BYTES``
    (default 1 MiB). Raises OutboundRefused (a subclass of ``requests.exceptions.InvalidURL``) for a
    refused URL or address, and requests' own exceptions (Timeout, ConnectionError) otherwise.
    """
    for name in ("allow_redirects", "proxies", "stream"):
        if name in kwargs:
            raise TypeError(f"outbound_request does not take {name}")
    if kwargs.get("verify") is False:
        raise TypeError("outbound_request always verifies TLS certificates")
    _split(url)  # refuse before any connection, even a pooled one
    limit = int(getattr(settings, "OUTBOUND_MAX_RESPONSE_BYTES", 1024 * 1024))
    with outbound_session(trusted=trusted) as session:
        try:
            response = session.request(method, url, timeout=timeout, allow_redirects=False, stream=True, **kwargs)
        except requests.exceptions.InvalidURL as exc:
            # requests wraps what the adapter raises in a plain InvalidURL: give back the refusal itself.
            if exc.args and isinstance(exc.args[0], OutboundRefused):
                raise exc.args[0] from None
            raise
        try:
            body = response.raw.read(limit, decode_content=True)
        finally:
            response.close()
    response._content = body or b""
    response._content_consumed = True
    return response
