"""What ``seed_demo`` seeds: the demo's organizations, people, services and names, and small helpers
(the clock it seeds around, coming Saturdays, couples' names, the daily load curve)."""

from __future__ import annotations

import datetime as dt
import math
import random

from django.core.management.base import CommandError
from django.utils import timezone

from wedsync_ops.tenancy.models import UserProfile

#: (slug, name, IANA time zone). The sample payloads name the first three slugs.
ORGANIZATIONS = [
    ("rosewood-florals", "Rosewood Florals", "Europe/London"),
    ("acme-weddings", "Acme Weddings", "America/New_York"),
    ("bloom-and-vine", "Bloom & Vine", "Australia/Sydney"),
    ("golden-hour-photo", "Golden Hour Photography", "America/Los_Angeles"),
    ("sakura-events", "Sakura Events", "Asia/Tokyo"),
    ("maison-lumiere", "Maison Lumière", "Europe/Paris"),
    ("windy-city-catering", "Windy City Catering", "America/Chicago"),
    ("harbour-view-venue", "Harbour View Venue", "Australia/Sydney"),
    ("thistle-and-lace", "Thistle & Lace Bridal", "Europe/London"),
    ("brooklyn-bakes", "Brooklyn Bakes", "America/New_York"),
    ("pacific-strings", "Pacific Strings Quartet", "America/Los_Angeles"),
    ("kyoto-tea-house", "Kyoto Tea House", "Asia/Tokyo"),
    ("provence-petals", "Provence Petals", "Europe/Paris"),
    ("lakeshore-limos", "Lakeshore Limousines", "America/Chicago"),
    ("kiwi-aisle", "Kiwi Aisle Planners", "Pacific/Auckland"),
    ("cape-cakes", "Cape Cakes", "Africa/Johannesburg"),
    ("spree-brides", "Spree Brides", "Europe/Berlin"),
    ("mile-high-djs", "Mile High DJs", "America/Denver"),
    ("marigold-mehndi", "Marigold Mehndi", "Asia/Kolkata"),
    ("samba-sounds", "Samba Sounds", "America/Sao_Paulo"),
]
#: Organizations with weddings on today's local date (at least four time zones).
TODAY_SLUGS = (
    "rosewood-florals",
    "acme-weddings",
    "bloom-and-vine",
    "golden-hour-photo",
    "sakura-events",
    "maison-lumiere",
)
#: Organizations whose public status page (/status/<slug>/) the demo turns on.
STATUS_PAGE_SLUGS = ("rosewood-florals", "acme-weddings", "bloom-and-vine")
#: Organizations with one cancelled wedding on their second coming Saturday.
CANCELLED_SLUGS = ("windy-city-catering", "thistle-and-lace", "kyoto-tea-house")
#: Services per organization and their typical median latency (ms).
# Median latency (ms) per service. With the spread below, a healthy service's p95 stays under the
# platform rule's wedding-day threshold (400 ms) at peak load: only the seeded spike (and, at peak,
# Rosewood's stricter payments rule) fires, as on a good Saturday.
SERVICES = {"booking-api": 90.0, "payments": 130.0, "gallery": 130.0, "email": 60.0}
LATENCY_SPREAD = 0.2  # sigma of the log-normal latency distribution
#: The organization and service whose latency spikes over the last SPIKE_MINUTES.
SPIKE = ("acme-weddings", "payments")
SPIKE_MINUTES = 30
SPIKE_FACTOR = 6.0
LATENCY_METRIC = "http.request.duration_ms"
COUNT_METRIC = "http.requests"
DEMO_TAG = {"source": "seed_demo"}
SATURDAYS_AHEAD = 4

STAFF_USER = ("ops", "ops-demo-pass")
VENDOR_USER = ("rosewood", "rosewood-demo-pass", "rosewood-florals", UserProfile.Role.OWNER)
VIEWER_USER = ("bloom", "bloom-demo-pass", "bloom-and-vine", UserProfile.Role.VIEWER)
STAFF_GROUPS = ("ops_admin", "support", "on_call", "devops", "emergency_response")

PLATFORM_RULE = "Platform p95 latency"
ONCALL_SCHEDULE = "Platform primary"
#: (username, first, last, email, phone, Slack member id, where they work): the platform's paging people.
ONCALL_PEOPLE = (
    ("priya", "Priya", "Shah", "priya@ops.example", "+447700900123", "U0PRIYA001", "Europe/London"),
    ("marcus", "Marcus", "Webb", "marcus@ops.example", "+447700900456", "U0MARCUS01", "Europe/London"),
    ("kenji", "Kenji", "Tanaka", "kenji@ops.example", "+61491570156", "U0KENJI001", "Australia/Sydney"),
    ("aroha", "Aroha", "Ngata", "aroha@ops.example", "+61491570157", "U0AROHA001", "Australia/Sydney"),
)


def _group_key(labels: dict) -> str:
    """Alertmanager's group key for ``group_by: [alertname, organization]`` (README's receiver)."""
    parts = ",".join(f'{k}="{labels[k]}"' for k in ("alertname", "organization") if k in labels)
    return f"{{}}:{{{parts}}}"


ORG_RULE = "Rosewood payments p95 latency"

FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "Noah",
    "Maya",
    "Leo",
    "Hana",
    "Ravi",
    "Chloé",
    "Mateo",
    "Yuki",
    "Aroha",
    "Sophie",
    "Liam",
    "Priya",
    "Jonas",
    "Thandi",
    "Lucas",
    "Emma",
    "Kenji",
    "Zara",
    "Finn",
    "Ana",
    "Sam",
]
VENUES = [
    "The Old Orangery",
    "Harbourside Pavilion",
    "St Mary's Church",
    "Lakeside Barn",
    "Rooftop Garden",
    "Château des Vignes",
    "Cherry Blossom Hall",
    "The Glasshouse",
    "Riverside Mill",
    "Cliff Top Chapel",
]
CEREMONY_TIMES = [dt.time(11, 0), dt.time(12, 30), dt.time(13, 0), dt.time(14, 0), dt.time(15, 30), dt.time(16, 0)]


def parse_now(raw: str | None) -> dt.datetime:
    """``--now``: an ISO 8601 instant with a UTC offset (``2026-06-13T12:00:00+00:00`` or ``…Z``).

    Raises CommandError for an unparsable or naive value. None -> the clock.
    """
    if raw is None:
        return timezone.now()
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--now {raw!r}: not an ISO 8601 date-time ({exc})") from exc
    if timezone.is_naive(value):
        raise CommandError(f"--now {raw!r}: give a UTC offset, e.g. {raw}+00:00")
    return value.astimezone(dt.UTC)


def coming_saturdays(local_today: dt.date, count: int) -> list[dt.date]:
    """The next ``count`` Saturdays from ``local_today`` (today included when it is a Saturday)."""
    first = local_today + dt.timedelta(days=(5 - local_today.weekday()) % 7)
    return [first + dt.timedelta(weeks=i) for i in range(count)]


def couple_name(rng: random.Random) -> str:
    """Two distinct first names, ``"Amelia & Noah"``."""
    a, b = rng.sample(FIRST_NAMES, 2)
    return f"{a} & {b}"


def load_factor(local_time: dt.datetime) -> float:
    """Traffic relative to the daily peak (0.15 .. 1.0): quiet at night, busiest mid-afternoon local time."""
    hour = local_time.hour + local_time.minute / 60
    return 0.15 + 0.85 * max(0.0, math.sin(math.pi * (hour - 6) / 18)) if 6 <= hour <= 24 else 0.15
