"""Provider configurations (Datadog, New Relic, Prometheus, …): create, credentials, due polls, poll results."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ..validation import SERVICE_MAX_LENGTH
from .metrics import MetricsValidationError, metrics_copy, metrics_validate

# --- provider configurations ---------------------------------------------------------

POLL_ALERT_SOURCE = "apm"


def apm_configuration_create(
    *,
    organization,
    name: str,
    provider: str,
    base_url: str,
    service: str,
    query: str = "",
    credentials: dict | None = None,
    poll_interval_seconds: int = 60,
    timeout_seconds: float | None = None,
    alert_after_failures: int | None = None,
    enabled: bool = True,
):
    """Create a provider configuration with its credentials encrypted (``apm.crypto``); returns it.

    ``credentials`` is a provider-specific dict (see ``apm.providers``),
    stored only as a Fernet token. Raises ValidationError naming the field
    for an unknown provider, empty name/service, a bad URL, or an interval
    outside APM_POLL_MIN_INTERVAL_S..86,400 s.
    """
    from django.core.validators import URLValidator

    from .. import conf
    from ..crypto import encrypt_credentials
    from ..models import ApmConfiguration
    from ..providers import PROVIDERS

    errors = {}
    if provider not in PROVIDERS:
        errors["provider"] = f"must be one of {', '.join(sorted(PROVIDERS))}"
    if not (name or "").strip():
        errors["name"] = "must not be empty"
    if not (service or "").strip() or len(service) > SERVICE_MAX_LENGTH:
        errors["service"] = f"must be 1 to {SERVICE_MAX_LENGTH} characters"
    try:
        URLValidator(schemes=["http", "https"])(base_url)
    except ValidationError:
        errors["base_url"] = "must be an http(s) URL"
    if not conf.APM_POLL_MIN_INTERVAL_S <= int(poll_interval_seconds) <= 86400:
        errors["poll_interval_seconds"] = f"must be from {conf.APM_POLL_MIN_INTERVAL_S} to 86400 seconds"
    if credentials is not None and not isinstance(credentials, dict):
        errors["credentials"] = "must be an object"
    if errors:
        raise ValidationError(errors)
    return ApmConfiguration.objects.create(
        organization=organization,
        name=name.strip(),
        provider=provider,
        base_url=base_url,
        service=service,
        query=query,
        credentials_encrypted=encrypt_credentials(credentials or {}),
        poll_interval_seconds=poll_interval_seconds,
        timeout_seconds=timeout_seconds if timeout_seconds is not None else conf.APM_POLL_TIMEOUT_S,
        alert_after_failures=alert_after_failures
        if alert_after_failures is not None
        else conf.APM_POLL_ALERT_AFTER_FAILURES,
        enabled=enabled,
    )


def apm_configuration_set_credentials(*, configuration, credentials: dict):
    """Replace a configuration's credentials (encrypted under the newest key); returns the configuration."""
    from ..crypto import encrypt_credentials

    configuration.credentials_encrypted = encrypt_credentials(credentials or {})
    configuration.save(update_fields=["credentials_encrypted"])
    return configuration


def apm_configurations_claim_due(*, now: dt.datetime) -> list[int]:
    """Claim the enabled configurations due for a poll at ``now``; returns their ids.

    Due: never polled, or ``last_polled_at + poll_interval_seconds <= now``.
    Claiming sets ``last_polled_at = now`` in one UPDATE over rows locked
    with ``FOR UPDATE SKIP LOCKED``, so two beat workers never poll one
    configuration twice. Needs a staff or service context.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "UPDATE apm_configurations SET last_polled_at = %(now)s WHERE id IN ("
            " SELECT id FROM apm_configurations WHERE enabled AND (last_polled_at IS NULL"
            " OR last_polled_at + make_interval(secs => poll_interval_seconds) <= %(now)s)"
            " ORDER BY id FOR UPDATE SKIP LOCKED) RETURNING id",
            {"now": now},
        )
        return sorted(r[0] for r in cur.fetchall())


def apm_configuration_fetch(*, configuration, now: dt.datetime) -> list[dict]:
    """Ask the provider (no database access): the points of one poll; raises ``apm.providers.ProviderError``.

    Credentials that cannot be decrypted are a ProviderError too (the
    message names no key and no content).
    """
    from ..crypto import CredentialsError, decrypt_credentials
    from ..providers import PROVIDERS, ProviderError

    try:
        credentials = decrypt_credentials(configuration.credentials_encrypted)
    except CredentialsError as exc:
        raise ProviderError(str(exc)) from exc
    return PROVIDERS[configuration.provider](configuration, credentials, now=now)


def apm_configuration_record_poll(
    *, configuration, now: dt.datetime, points: list[dict] | None = None, error: str | None = None
) -> int:
    """Store one poll's outcome; returns the points stored.

    Success (``points``): they are validated and COPYed as metrics of the
    configuration's organization (invalid points make the poll a failure
    naming the first problem), ``last_success_at = now``, the failure count
    resets and an open poll-failure alert resolves. Failure (``error``, a
    ProviderError message): ``last_error`` and ``consecutive_failures`` + 1;
    when the count reaches ``alert_after_failures`` an alert fires
    (``alerts.services.alerts_sync``, fingerprint ``apm-config-<id>``,
    warning/high; a success resolves it the same way). Needs a staff or service context.
    """
    from alerts.services import FireCandidate, alerts_sync

    from ..models import ApmConfiguration

    fingerprint = f"apm-config-{configuration.pk}"
    stored = 0
    with transaction.atomic():
        if error is None and points:
            try:
                rows = metrics_validate(organization_id=configuration.organization_id, payload=points, now=now)
            except MetricsValidationError as exc:
                first = exc.errors[0] if exc.errors else {}
                what = exc.detail or f"{first.get('field')} {first.get('reason', '')}"
                error = f"the provider answered an invalid point: {what}"
            else:
                stored = metrics_copy(rows=rows)
        if error is None:
            ApmConfiguration.objects.filter(pk=configuration.pk).update(
                last_success_at=now, last_error="", consecutive_failures=0
            )
            alerts_sync(
                source=POLL_ALERT_SOURCE,
                firing=[],
                now=now,
                organization_id=configuration.organization_id,
                fingerprints=[fingerprint],
            )
            return stored
        error = error[:1000]
        failures = configuration.consecutive_failures + 1
        ApmConfiguration.objects.filter(pk=configuration.pk).update(last_error=error, consecutive_failures=failures)
        configuration.consecutive_failures, configuration.last_error = failures, error
        if failures >= configuration.alert_after_failures:
            alerts_sync(
                source=POLL_ALERT_SOURCE,
                now=now,
                organization_id=configuration.organization_id,
                fingerprints=[fingerprint],
                firing=[
                    FireCandidate(
                        organization_id=configuration.organization_id,
                        fingerprint=fingerprint,
                        source=POLL_ALERT_SOURCE,
                        title=f"APM provider {configuration.name} failing: {failures} polls in a row",
                        labels={
                            "alertname": "ApmProviderPollFailing",
                            "provider": configuration.provider,
                            "configuration": str(configuration.pk),
                        },
                        annotations={"last_error": error},
                        severity="warning",
                        priority="high",
                        starts_at=now,
                        description=error,
                    )
                ],
            )
    return 0


def credentials_reencrypt(*, batch_size: int = 500, progress=None) -> int:
    """Re-encrypt every configuration's credentials under the newest key; returns how many were rewritten.

    Batches of ``batch_size`` rows, one transaction each, rows locked while
    rewritten; ``progress(done, total)`` is called after each batch. Raises
    ``apm.crypto.CredentialsError`` (and rolls back that batch) for a token
    no configured key decrypts. Needs a staff or service context.
    """
    from ..crypto import rotate_token
    from ..models import ApmConfiguration

    ids = list(ApmConfiguration.objects.exclude(credentials_encrypted="").order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for config in ApmConfiguration.objects.select_for_update().filter(pk__in=ids[start : start + batch_size]):
                rotated = rotate_token(config.credentials_encrypted)
                ApmConfiguration.objects.filter(pk=config.pk).update(credentials_encrypted=rotated)
                done += 1
        if progress:
            progress(done, len(ids))
    return done
