"""Alerts and silences as pages: /ops/alerts/, /ops/alerts/<id>/, /ops/silences/… and the vendor's own under
/org/<slug>/alerts/…; filters in Alertmanager syntax, a live preview, expire and recreate; outsiders get 404."""

import datetime as dt

import pytest
from django.utils import timezone

from alerts.models import AlertHistory, SuppressionRule
from alerts.services import alert_fire
from wedsync_ops.tenancy.context import service_context


def _fire(org, fingerprint, title, labels, *, severity="warning", group_key="", now=None, **extra):
    now = now or timezone.now()
    alert, _ = alert_fire(
        organization_id=org.id if org else None,
        fingerprint=fingerprint,
        source="alertmanager",
        title=title,
        labels=labels,
        annotations=extra.pop("annotations", {}),
        severity=severity,
        priority="medium",
        starts_at=now - dt.timedelta(minutes=5),
        now=now,
        **extra,
    )
    if group_key:
        AlertHistory.objects.filter(pk=alert.pk).update(group_key=group_key)
    return alert


@pytest.fixture
def alerts(world):
    with service_context():
        a1 = _fire(
            world.org_a,
            "a000000000000001",
            "Checkout slow",
            {"alertname": "HighLatency", "service": "payments"},
            group_key='{}:{alertname="HighLatency"}',
            annotations={"dashboard_url": "https://grafana.example/d/checkout", "summary": "p95 over 1 s"},
            generator_url="https://prometheus.example/graph?g0.expr=x",
        )
        a2 = _fire(
            world.org_a,
            "a000000000000002",
            "Gallery slow",
            {"alertname": "HighLatency", "service": "gallery"},
            group_key='{}:{alertname="HighLatency"}',
        )
        a3 = _fire(world.org_a, "a000000000000003", "Disk full", {"alertname": "DiskFull"}, severity="critical")
        b1 = _fire(
            world.org_b, "b000000000000001", "Bob's checkout slow", {"alertname": "HighLatency", "service": "payments"}
        )
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1}


def test_ops_alert_list_filters_by_label_matchers_and_groups_by_group_key(client, world, alerts):
    client.force_login(world.staff)
    html = client.get("/ops/alerts/").content.decode()
    for title in ("Checkout slow", "Gallery slow", "Disk full", "Bob&#x27;s checkout slow"):
        assert title in html
    assert "Group <code" in html and html.count('class="card alert-group"') == 2  # one group key, and the ungrouped
    html = client.get("/ops/alerts/", {"matchers": 'service=~"pay.*"'}).content.decode()
    assert "Checkout slow" in html and "Bob&#x27;s checkout slow" in html and "Gallery slow" not in html
    html = client.get(
        "/ops/alerts/", {"matchers": 'service=~"pay.*"', "organization": "bloom-and-vine"}
    ).content.decode()
    assert "Bob&#x27;s checkout slow" in html and "Checkout slow</a>" not in html.replace("Bob&#x27;s checkout", "")
    html = client.get("/ops/alerts/", {"severity": "critical"}).content.decode()
    assert "Disk full" in html and "Gallery slow" not in html


def test_bad_alert_filters_answer_400_naming_the_field(client, world, alerts):
    client.force_login(world.staff)
    response = client.get("/ops/alerts/", {"matchers": "service~~x"})
    assert response.status_code == 400 and "matchers: cannot read a matcher" in response.content.decode()
    assert client.get("/ops/alerts/", {"state": "sleeping"}).status_code == 400
    response = client.get("/ops/alerts/", {"organization": "nobody"})
    assert response.status_code == 400 and "no organization" in response.content.decode()


def test_alert_page_shows_labels_links_threshold_and_a_prefilled_silence(client, world, alerts):
    client.force_login(world.staff)
    html = client.get(f"/ops/alerts/{alerts['a1'].pk}/").content.decode()
    assert 'service="payments"' in html and "p95 over 1 s" in html
    assert "https://grafana.example/d/checkout" in html and "https://prometheus.example/graph" in html
    assert "Why that threshold" in html and "Timeline" in html
    assert 'value="alertname=&quot;HighLatency&quot;, organization=&quot;rosewood-florals&quot;' in html
    form = client.get("/ops/silences/new/", {"alert": str(alerts["a1"].pk)}).content.decode()
    assert "service=&quot;payments&quot;" in form and 'value="rosewood-florals" selected' in form


def test_acknowledge_from_the_dashboard_returns_to_it(client, world, alerts):
    client.force_login(world.staff)
    response = client.post(f"/ops/alerts/{alerts['a3'].pk}/", {"action": "acknowledge", "next": "/ops/saturday/"})
    assert response.status_code == 302 and response["Location"] == "/ops/saturday/"
    with service_context():
        assert AlertHistory.objects.get(pk=alerts["a3"].pk).status == "acknowledged"
    # never an open redirect
    response = client.post(
        f"/ops/alerts/{alerts['a3'].pk}/", {"action": "acknowledge", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/ops/alerts/{alerts['a3'].pk}/"
    assert client.post(f"/ops/alerts/{alerts['a3'].pk}/", {"action": "explode"}).status_code == 400


def test_vendor_sees_its_own_alerts_and_another_organizations_answer_404(client, world, alerts):
    client.force_login(world.alice)
    html = client.get("/org/rosewood-florals/alerts/").content.decode()
    assert "Checkout slow" in html and "Bob&#x27;s" not in html
    assert client.get(f"/org/rosewood-florals/alerts/{alerts['a1'].pk}/").status_code == 200
    assert client.get(f"/org/rosewood-florals/alerts/{alerts['b1'].pk}/").status_code == 404
    assert client.get("/org/bloom-and-vine/alerts/").status_code == 404
    assert client.get(f"/org/bloom-and-vine/alerts/{alerts['b1'].pk}/").status_code == 404
    assert client.get("/ops/alerts/").status_code == 404
    assert client.get(f"/ops/alerts/{alerts['a1'].pk}/").status_code == 404
    preview = client.get("/org/rosewood-florals/alerts/silences/preview.json", {"matchers": 'alertname="HighLatency"'})
    titles = [a["title"] for a in preview.json()["alerts"]]
    assert sorted(titles) == ["Checkout slow", "Gallery slow"]  # never Bob's
    assert client.get("/org/bloom-and-vine/alerts/silences/preview.json", {"matchers": 'a="b"'}).status_code == 404
    assert client.get("/ops/silences/preview.json", {"matchers": 'a="b"'}).status_code == 404
    # a member (not admin) of the organization reads but cannot acknowledge
    client.force_login(world.bob)
    assert client.get(f"/org/bloom-and-vine/alerts/{alerts['b1'].pk}/").status_code == 200
    assert client.post(f"/org/bloom-and-vine/alerts/{alerts['b1'].pk}/", {"action": "acknowledge"}).status_code == 404
    assert client.get("/org/bloom-and-vine/alerts/silences/new/").status_code == 404


def test_preview_json_lists_what_a_silence_would_mute_and_refuses_bad_matchers(client, world, alerts):
    client.force_login(world.staff)
    answer = client.get("/ops/silences/preview.json", {"matchers": 'alertname="HighLatency", service="payments"'})
    assert answer.status_code == 200 and answer.json()["count"] == 2
    scoped = client.get(
        "/ops/silences/preview.json", {"matchers": 'alertname="HighLatency"', "organization": "bloom-and-vine"}
    ).json()
    assert [a["title"] for a in scoped["alerts"]] == ["Bob's checkout slow"]
    assert scoped["alerts"][0]["organization"] == "Bloom & Vine"
    bad = client.get("/ops/silences/preview.json", {"matchers": 'service=~"(a"'})
    assert bad.status_code == 400 and bad.json()["field"] == "matchers"


def test_staff_silence_with_start_and_end_mutes_expires_and_recreates(client, world, alerts):
    client.force_login(world.staff)
    now = timezone.now().astimezone(dt.timezone(dt.timedelta(0)))
    london = now.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    body = {
        "organization": "rosewood-florals",
        "matchers": 'alertname="HighLatency"',
        "starts_at": (london - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (london + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "comment": "deploy",
    }
    response = client.post("/ops/silences/new/", body)
    assert response.status_code == 302, response.content.decode()[:3000]
    with service_context():
        silence = SuppressionRule.objects.get()
        assert silence.organization_id == world.org_a.id
        assert abs((silence.ends_at - now).total_seconds() - 3 * 3600) < 120  # typed in London time
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "suppressed"
        assert AlertHistory.objects.get(pk=alerts["b1"].pk).status == "firing"  # another organization
    page = client.get("/ops/silences/", follow=True).content.decode()
    assert "created" in page and "alertname=&quot;HighLatency&quot;" in page
    assert client.post("/ops/silences/", {"action": "expire", "silence": str(silence.pk)}).status_code == 302
    with service_context():
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "firing"
    page = client.get("/ops/silences/").content.decode()
    assert f"?from={silence.pk}" in page  # recreate
    again = client.get("/ops/silences/new/", {"from": str(silence.pk)}).content.decode()
    assert "alertname=&quot;HighLatency&quot;" in again and "deploy" in again


def test_a_bad_silence_keeps_what_was_typed_and_names_the_field(client, world, alerts):
    client.force_login(world.staff)
    body = {
        "matchers": 'alertname="HighLatency"',
        "starts_at": "2026-06-13T14:00",
        "ends_at": "2026-06-13T13:00",
        "comment": "my careful reason",
    }
    response = client.post("/ops/silences/new/", body)
    html = response.content.decode()
    assert response.status_code == 400 and "ends_at: must be after the start" in html
    assert "my careful reason" in html and 'value="2026-06-13T14:00"' in html
    with service_context():
        assert not SuppressionRule.objects.exists()


def test_maintenance_window_and_inhibition_rule_forms_use_weekday_checkboxes_and_matchers(client, world, alerts):
    client.force_login(world.staff)
    form = client.get("/ops/maintenance/new/").content.decode()
    assert 'type="checkbox" name="weekdays" value="6"' in form
    response = client.post(
        "/ops/maintenance/new/",
        {
            "name": "nightly backup",
            "matchers": 'alertname="DiskFull"',
            "weekdays": ["1", "6"],
            "start_time": "02:00",
            "end_time": "03:30",
            "timezone": "Europe/London",
            "comment": "",
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/ops/inhibitions/new/",
        {
            "name": "disk mutes latency",
            "source_matchers": 'alertname="DiskFull"',
            "matchers": 'alertname="HighLatency"',
            "equal_labels": "organization",
            "comment": "",
        },
    )
    assert response.status_code == 302
    with service_context():
        window = SuppressionRule.objects.get(kind="maintenance")
        assert window.weekdays == [1, 6] and window.start_time == dt.time(2, 0)
        inhibition = SuppressionRule.objects.get(kind="inhibition")
        assert inhibition.equal_labels == ["organization"]
        # the critical DiskFull alert inhibits the same organization's latency alerts
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "suppressed"
        assert AlertHistory.objects.get(pk=alerts["b1"].pk).status == "firing"
    page = client.get("/ops/silences/").content.decode()
    assert "Mon, Sat 02:00–03:30" in page
    assert client.post("/ops/silences/", {"action": "disable", "rule": str(inhibition.pk)}).status_code == 302
    with service_context():
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "firing"
    bad = client.post(
        "/ops/maintenance/new/",
        {"name": "x", "matchers": 'a="b"', "start_time": "02:00", "end_time": "03:00", "timezone": "Mars/Olympus"},
    )
    assert bad.status_code == 400 and "unknown time zone" in bad.content.decode()


def test_vendor_silence_uses_the_organizations_time_zone_and_cannot_expire_anothers(client, world, alerts):
    with service_context():
        from alerts.silences import suppression_rule_create

        now = timezone.now()
        theirs = suppression_rule_create(
            kind="silence",
            matchers=[{"name": "a", "op": "=", "value": "b"}],
            now=now,
            organization_id=world.org_b.id,
            starts_at=now,
            ends_at=now + dt.timedelta(hours=1),
        )
    client.force_login(world.alice)
    page = client.get("/org/rosewood-florals/alerts/silences/").content.decode()
    assert "Times are in Europe/London" in page and 'type="datetime-local"' in page
    assert (
        client.post(
            "/org/rosewood-florals/alerts/silences/", {"action": "expire", "silence": str(theirs.pk)}
        ).status_code
        == 404
    )
    assert client.get("/org/rosewood-florals/alerts/silences/new/", {"from": str(theirs.pk)}).status_code == 200
    assert (
        "a=&quot;b&quot;"
        not in client.get("/org/rosewood-florals/alerts/silences/new/", {"from": str(theirs.pk)}).content.decode()
    )


def test_vendor_admin_makes_maintenance_windows_and_inhibition_rules_for_its_own_alerts_only(client, world, alerts):
    client.force_login(world.alice)
    form = client.get("/org/rosewood-florals/alerts/maintenance/new/").content.decode()
    assert 'value="Europe/London"' in form and 'name="weekdays" value="7"' in form
    response = client.post(
        "/org/rosewood-florals/alerts/maintenance/new/",
        {
            "name": "Sunday backup",
            "matchers": 'alertname="DiskFull"',
            "weekdays": ["7"],
            "start_time": "01:00",
            "end_time": "02:00",
            "timezone": "Europe/London",
        },
    )
    assert response.status_code == 302
    response = client.post(
        "/org/rosewood-florals/alerts/inhibitions/new/",
        {
            "name": "disk mutes latency",
            "source_matchers": 'alertname="DiskFull"',
            "matchers": 'alertname="HighLatency"',
            "equal_labels": "",
        },
    )
    assert response.status_code == 302
    with service_context():
        mine = SuppressionRule.objects.filter(organization=world.org_a)
        assert sorted(mine.values_list("kind", flat=True)) == ["inhibition", "maintenance"]
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "suppressed"
        assert AlertHistory.objects.get(pk=alerts["b1"].pk).status == "firing"  # Bob's alerts are not hers to mute
        inhibition = mine.get(kind="inhibition")
    page = client.get("/org/rosewood-florals/alerts/silences/").content.decode()
    assert "Sunday backup" in page and "Sun 01:00–02:00" in page
    # Bob (another organization, a member) can neither see nor disable it; Alice can.
    client.force_login(world.bob)
    assert (
        client.post(
            "/org/rosewood-florals/alerts/silences/", {"action": "disable", "rule": str(inhibition.pk)}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/org/bloom-and-vine/alerts/silences/", {"action": "disable", "rule": str(inhibition.pk)}
        ).status_code
        == 404
    )
    assert client.get("/org/bloom-and-vine/alerts/maintenance/new/").status_code == 404  # members do not edit
    client.force_login(world.alice)
    assert (
        client.post(
            "/org/rosewood-florals/alerts/silences/", {"action": "disable", "rule": str(inhibition.pk)}
        ).status_code
        == 302
    )
    with service_context():
        assert AlertHistory.objects.get(pk=alerts["a1"].pk).status == "firing"


def test_a_grafana_alert_page_links_to_its_dashboard_panel_and_silence_in_grafana(client, world, monkeypatch):
    from alerts import conf
    from tests.conftest import SAMPLES_DIR
    from tests.test_integrations_inbound import RATE_REDIS, make_integration

    monkeypatch.setattr(conf, "INTEGRATION_RATE_LIMIT_REDIS_URL", RATE_REDIS)
    _integration, token = make_integration("grafana")
    body = (SAMPLES_DIR / "grafana/firing-two-alerts.json").read_bytes()
    answer = client.post(
        "/api/v1/integrations/grafana/",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert answer.status_code == 200
    with service_context():
        alert = AlertHistory.objects.get(source="grafana", fingerprint="7f2b0d8e4c1a9b36")
    client.force_login(world.staff)
    links = client.get(f"/ops/alerts/{alert.pk}/").content.decode().split('id="links"')[1].split("</section>")[0]
    assert 'href="https://grafana.example.com/d/uploads"' in links and "dashboard (Grafana)" in links
    assert "viewPanel=" in links and "panel (Grafana)" in links
    assert "alerting/silence/new" in links and "silence in Grafana" in links
