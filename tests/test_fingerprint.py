"""Alertmanager fingerprints: FNV-1a 64 over the sorted labels, reproduced from captured payloads."""

import json

import pytest

from alerts.fingerprint import labels_fingerprint
from tests.conftest import SAMPLES_DIR

SAMPLES = SAMPLES_DIR / "alertmanager"
SAMPLE_ALERTS = [
    pytest.param(alert, id=f"{path.stem}[{index}]")
    for path in sorted(SAMPLES.glob("*.json"))
    for index, alert in enumerate(json.loads(path.read_text())["alerts"])
]


def test_every_sample_file_is_covered():
    assert len(list(SAMPLES.glob("*.json"))) == 4
    assert len(SAMPLE_ALERTS) == 6


@pytest.mark.parametrize("alert", SAMPLE_ALERTS)
def test_fingerprint_of_each_captured_alert_matches_alertmanagers(alert):
    assert labels_fingerprint(alert["labels"]) == alert["fingerprint"]


def test_fingerprint_ignores_label_order_and_annotations():
    labels = {
        "service": "payments",
        "alertname": "HighCheckoutLatency",
        "severity": "critical",
        "organization": "rosewood-florals",
    }
    assert labels_fingerprint(labels) == "3d35165a267914d1"
    assert labels_fingerprint(dict(reversed(list(labels.items())))) == "3d35165a267914d1"


def test_fingerprint_changes_with_any_label_value():
    base = {
        "alertname": "HighCheckoutLatency",
        "organization": "rosewood-florals",
        "service": "payments",
        "severity": "critical",
    }
    assert labels_fingerprint({**base, "service": "payment"}) != labels_fingerprint(base)
    assert labels_fingerprint({**base, "instance": ""}) != labels_fingerprint(base)


def test_separator_keeps_name_and_value_boundaries_apart():
    # Without the 0xFF separator these two label sets would hash the same bytes.
    assert labels_fingerprint({"ab": "c"}) != labels_fingerprint({"a": "bc"})


def test_empty_label_set_is_the_fnv_offset_basis_printed_as_16_hex_digits():
    assert labels_fingerprint({}) == "cbf29ce484222325"
    fp = labels_fingerprint({"a": "b"})
    assert len(fp) == 16 and fp == fp.lower() and int(fp, 16) >= 0
