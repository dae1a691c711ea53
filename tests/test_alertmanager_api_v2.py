"""Alertmanager API v2 on the portal, driven by the real ``amtool`` (Debian's prometheus-alertmanager).

amtool runs as a subprocess against the live test server with an HTTP config file carrying the bearer
token, exactly as an operator would point it at the portal: it checks the version (``/api/v2/status``),
adds, queries and expires silences, and lists alerts with their silence. An organization's token sees
and changes only its organization's silences; a silence applies at once to what is already firing.
"""

import datetime as dt
import json
import shutil
import subprocess

import pytest
import requests

from alerts.models import AlertHistory, SuppressionRule
from alerts.services import integration_create
from incidents.models import IncidentUpdate
from tests.factories import fire_alert, make_user_token
from wedsync_ops.tenancy.context import service_context

AMTOOL = shutil.which("amtool")
LABELS = {"alertname": "HighCheckoutLatency", "service": "payments", "severity": "critical"}

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module", autouse=True)
def amtool_installed():
    assert AMTOOL, "amtool is missing: apt-get install prometheus-alertmanager (make test installs it)"


@pytest.fixture
def tokens(world, tmp_path):
    """An organization integration token (rosewood), another organization's, and a platform one."""
    with service_context():
        _, rose = integration_create(kind="alertmanager", name="rosewood am", organization_id=world.org_a.id)
        _, bloom = integration_create(kind="alertmanager", name="bloom am", organization_id=world.org_b.id)
        _, platform = integration_create(kind="alertmanager", name="platform am")
    world.tokens = {"rose": rose, "bloom": bloom, "platform": platform}
    world.tmp = tmp_path
    return world


def fire(org, labels=LABELS, *, now):
    return fire_alert(
        org,
        labels,
        now=now,
        severity="critical",
        priority="high",
        annotations={"summary": "p95 2.4 s"},
        starts_at=now - dt.timedelta(minutes=3),
    )


def amtool(world, live_server, who, *args):
    config = world.tmp / f"{who}.yml"
    config.write_text(f"authorization:\n  type: Bearer\n  credentials: {world.tokens[who]}\n")
    result = subprocess.run(
        [AMTOOL, f"--alertmanager.url={live_server.url}", f"--http.config.file={config}", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def test_amtool_adds_queries_and_expires_a_silence_that_mutes_what_fires(tokens, live_server):
    from django.utils import timezone

    alert = fire(tokens.org_a, now=timezone.now())
    added = amtool(
        tokens,
        live_server,
        "rose",
        "silence",
        "add",
        'alertname="HighCheckoutLatency"',
        'service=~"pay.*"',
        "--duration=3h",
        "--comment=deploying the payment fix",
        "--author=priya",
    )
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    with service_context():
        silence = SuppressionRule.objects.get(pk=silence_id)
        muted = AlertHistory.objects.get(pk=alert.pk)
    assert (silence.organization_id, silence.created_by_name, silence.comment) == (
        tokens.org_a.id,
        "priya",
        "deploying the payment fix",
    )
    assert silence.matchers == [
        {"name": "alertname", "op": "=", "value": "HighCheckoutLatency"},
        {"name": "service", "op": "=~", "value": "pay.*"},
    ]
    assert abs((silence.ends_at - silence.starts_at) - dt.timedelta(hours=3)) < dt.timedelta(seconds=5)
    # The alert already firing is muted at once (Alertmanager's meaning of a silence).
    assert (muted.status, muted.suppressed_by_id) == ("suppressed", silence.pk)
    with service_context():
        (line,) = IncidentUpdate.objects.filter(incident_id=muted.incident_id, kind="mute").values_list(
            "message", flat=True
        )
    assert line.startswith(f"Muted by silence {silence.pk} (priya, 'deploying the payment fix', until ")

    query = amtool(tokens, live_server, "rose", "-o", "json", "silence", "query")
    assert query.returncode == 0, query.stderr
    (listed,) = json.loads(query.stdout)
    assert listed["id"] == silence_id and listed["status"]["state"] == "active" and listed["createdBy"] == "priya"

    alerts = amtool(tokens, live_server, "rose", "-o", "json", "alert", "query", "--silenced")
    assert alerts.returncode == 0, alerts.stderr
    (shown,) = json.loads(alerts.stdout)
    assert shown["status"] == {"state": "suppressed", "silencedBy": [silence_id], "inhibitedBy": []}
    assert shown["labels"]["organization"] == "rosewood-florals" and shown["fingerprint"] == alert.fingerprint

    expired = amtool(tokens, live_server, "rose", "silence", "expire", silence_id)
    assert expired.returncode == 0, expired.stderr
    with service_context():
        assert AlertHistory.objects.get(pk=alert.pk).status == "firing"  # released: it fires again
    assert json.loads(amtool(tokens, live_server, "rose", "-o", "json", "silence", "query").stdout) == []
    everything = json.loads(amtool(tokens, live_server, "rose", "-o", "json", "silence", "query", "--expired").stdout)
    assert [s["status"]["state"] for s in everything] == ["expired"]


def test_an_organization_token_never_sees_or_changes_another_organizations_silences(tokens, live_server):
    added = amtool(tokens, live_server, "rose", "silence", "add", "alertname=Anything", "--comment=ours")
    assert added.returncode == 0, added.stderr
    rose_silence = added.stdout.strip()
    assert json.loads(amtool(tokens, live_server, "bloom", "-o", "json", "silence", "query").stdout) == []
    refused = amtool(tokens, live_server, "bloom", "silence", "expire", rose_silence)
    assert refused.returncode != 0  # 404: another organization's silence does not exist for bloom
    headers = {"Authorization": f"Bearer {tokens.tokens['bloom']}"}
    one = requests.get(f"{live_server.url}/api/v2/silence/{rose_silence}", headers=headers, timeout=10)
    assert one.status_code == 404
    fire(tokens.org_a, now=dt.datetime.now(dt.UTC))
    assert requests.get(f"{live_server.url}/api/v2/alerts", headers=headers, timeout=10).json() == []
    # The platform sees both organizations' silences.
    platform = json.loads(amtool(tokens, live_server, "platform", "-o", "json", "silence", "query").stdout)
    assert [s["id"] for s in platform] == [rose_silence]


def test_a_platform_silence_naming_an_organization_belongs_to_it(tokens, live_server):
    added = amtool(
        tokens,
        live_server,
        "platform",
        "silence",
        "add",
        "organization=bloom-and-vine",
        "alertname=DiskFull",
        "--comment=disk swap",
    )
    assert added.returncode == 0, added.stderr
    with service_context():
        assert SuppressionRule.objects.get(pk=added.stdout.strip()).organization_id == tokens.org_b.id
    assert len(json.loads(amtool(tokens, live_server, "bloom", "-o", "json", "silence", "query").stdout)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"matchers": [], "startsAt": "2026-06-13T12:00:00Z", "endsAt": "2026-06-13T13:00:00Z", "comment": "x"},
            "matchers",
        ),
        (
            {
                "matchers": [{"name": "a", "value": "(", "isRegex": True}],
                "startsAt": "2026-06-13T12:00:00Z",
                "endsAt": "2026-06-13T13:00:00Z",
                "comment": "x",
            },
            "matchers",
        ),
        (
            {
                "matchers": [{"name": "a", "value": "b"}],
                "startsAt": "soon",
                "endsAt": "2026-06-13T13:00:00Z",
                "comment": "x",
            },
            "startsAt",
        ),
        (
            {
                "matchers": [{"name": "a", "value": "b"}],
                "startsAt": "2026-06-13T14:00:00Z",
                "endsAt": "2026-06-13T13:00:00Z",
                "comment": "x",
            },
            "ends_at",
        ),
        (
            {
                "matchers": [{"name": "a", "value": "b"}],
                "startsAt": "2026-06-13T12:00:00Z",
                "endsAt": "2026-06-13T13:00:00Z",
                "comment": "",
            },
            "comment",
        ),
    ],
)
def test_bad_silences_answer_400_naming_the_field_and_store_nothing(tokens, live_server, body, field):
    headers = {"Authorization": f"Bearer {tokens.tokens['rose']}"}
    response = requests.post(f"{live_server.url}/api/v2/silences", json=body, headers=headers, timeout=10)
    assert response.status_code == 400 and response.json()["field"] == field, response.text
    with service_context():
        assert SuppressionRule.objects.count() == 0


def test_without_a_token_or_with_a_vendor_member_token_nothing_is_written(tokens, live_server):
    assert requests.get(f"{live_server.url}/api/v2/silences", timeout=10).status_code == 401
    with service_context():
        token = make_user_token(tokens.bob)  # a member of bloom-and-vine, not an admin
    headers = {"Authorization": f"Bearer {token}"}
    body = {
        "matchers": [{"name": "a", "value": "b"}],
        "startsAt": "2026-06-13T12:00:00Z",
        "endsAt": "2099-06-13T13:00:00Z",
        "comment": "x",
    }
    assert requests.get(f"{live_server.url}/api/v2/silences", headers=headers, timeout=10).status_code == 200
    write = requests.post(f"{live_server.url}/api/v2/silences", json=body, headers=headers, timeout=10)
    assert write.status_code == 403
