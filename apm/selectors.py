"""Reads of APM data that several pages share. (Contract; the apm helper implements.)"""


def latest_p95_by_service(*, organization_id=None, now=None) -> list[dict]:
    """The latest 1-minute p95 per (organization, service, metric) within the last hour.

    Returns ``[{"organization_id", "organization_slug", "service", "metric_name",
    "p95", "count", "bucket_start"}]`` ordered by organization slug, service; filtered
    to ``organization_id`` when given. RLS applies as usual.
    """
    raise NotImplementedError
