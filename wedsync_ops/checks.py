"""``manage.py check --deploy`` checks of the portal's own production settings (beside Django's security.*).

Registered by ``wedsync_ops.pages.apps.PagesConfig.ready``. Each is a Warning,
so ``check --deploy --fail-level WARNING`` fails until the variable is set.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def production_settings(app_configs=None, **kwargs) -> list[Warning]:
    """W001: ``/metrics`` has no token; W002: credentials are encrypted with a key derived from SECRET_KEY;
    W003: the email channel would send through localhost:25; W004: notification links point at 127.0.0.1."""
    from apm import conf as apm_conf

    found = []
    if not apm_conf.APM_METRICS_TOKEN:
        found.append(
            Warning(
                "APM_METRICS_TOKEN is not set: /metrics answers 403 to Prometheus",
                hint="Set APM_METRICS_TOKEN and give Prometheus the same bearer token.",
                id="wedsync_ops.W001",
            )
        )
    if not settings.FIELD_ENCRYPTION_KEYS:
        found.append(
            Warning(
                "FIELD_ENCRYPTION_KEYS is empty: secrets use a key derived from SECRET_KEY",
                hint="Set FIELD_ENCRYPTION_KEYS to a Fernet key.",
                id="wedsync_ops.W002",
            )
        )
    if settings.EMAIL_HOST in ("localhost", "127.0.0.1") and settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        found.append(
            Warning(
                "EMAIL_URL is not set: the email channel sends through localhost:25",
                hint="Set EMAIL_URL to the SMTP relay (.env.example).",
                id="wedsync_ops.W003",
            )
        )
    if "127.0.0.1" in settings.PORTAL_BASE_URL or "localhost" in settings.PORTAL_BASE_URL:
        found.append(
            Warning(
                "PORTAL_BASE_URL points at this machine: links in notifications will not open",
                hint="Set PORTAL_BASE_URL to the portal's public https:// address.",
                id="wedsync_ops.W004",
            )
        )
    return found
