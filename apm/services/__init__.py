"""APM state changes, by concern; every public name is importable from ``apm.services``.

- ``metrics``: metric ingest (validation, then COPY), day partitions, aggregation, partition retention;
- ``errors``: error report ingest, pattern status, suppression rules;
- ``providers``: provider configurations and their polls;
- ``health``: service health checks, platform snapshots and retention;
- ``dashboards``: organization dashboards;
- ``keys``: ingest API keys;
- the WS-259 rollups (``apm.performance``) and error correlation (``apm.correlation``), issue 18.

Validation helpers shared with ``apm.errors`` and the ingest formats are public in ``apm.validation``.
"""

# Issue 18: the performance rollups and error correlation write apm's tables (seed_demo runs them).
from ..correlation import error_correlations_run  # noqa: F401
from ..performance import performance_rollup  # noqa: F401
from .dashboards import (  # noqa: F401
    DASHBOARD_AGGREGATIONS,
    DASHBOARD_CHARTS,
    DASHBOARD_MAX_WIDGETS,
    DASHBOARD_WINDOWS,
    dashboard_save,
    dashboard_validate_widgets,
)
from .errors import (  # noqa: F401
    ErrorsIngestResult,
    error_pattern_set_status,
    error_suppression_rule_create,
    errors_ingest,
)
from .health import (  # noqa: F401
    ProbeResult,
    health_check_probe,
    health_check_record,
    health_checks_claim_due,
    monitoring_data_cleanup,
    system_health_snapshot_capture,
)
from .keys import (  # noqa: F401
    API_KEY_PREFIX,
    api_key_create,
)
from .metrics import (  # noqa: F401
    AGGREGATION_BUCKETS,
    MetricRow,
    MetricsValidationError,
    ensure_stage_table,
    metrics_aggregate,
    metrics_copy,
    metrics_copy_tuples,
    metrics_drop_expired_partitions,
    metrics_ensure_partitions,
    metrics_ensure_partitions_for,
    metrics_ingest,
    metrics_validate,
)
from .providers import (  # noqa: F401
    POLL_ALERT_SOURCE,
    apm_configuration_create,
    apm_configuration_fetch,
    apm_configuration_record_poll,
    apm_configuration_set_credentials,
    apm_configurations_claim_due,
    credentials_reencrypt,
)
