"""Signals of the alerts app, for apps that must not be imported by it.

``watchdog_received``: sent by ``alerts.integrations.alertmanager.alertmanager_receive``
for every alert named ``Watchdog`` (kube-prometheus' always-firing alert that
proves the alerting pipeline works), with ``integration`` (AlertIntegration),
``status`` (``"firing"`` or ``"resolved"``), ``labels`` (dict) and ``now``
(aware datetime), inside the receiving transaction and service context. A
receiver that returns True has taken the alert: it is then not stored as an
ordinary alert (an always-firing alert would otherwise stay open forever).
The heartbeats app records it as a ping of the integration's Watchdog check.
"""

from django.dispatch import Signal

watchdog_received = Signal()
