"""Histogram points: storage (delta form, with wedding context) of OTLP Histogram / ExponentialHistogram points.

Quantiles of histograms are computed from their buckets by
``aggregate_metrics`` (SQL ``apm_histogram_quantiles``, see
``apm/sql/functions/aggregate_metric_histograms.v1.sql``).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

from .otlp import HistogramPoint
from .queries import query
from .services import ensure_stage_table

# A cumulative series seen for the first time counts whole when it started at most this long before its point.
NEW_SERIES_WINDOW = dt.timedelta(hours=1)

_STAGE_COLUMNS = (
    "organization_id, service, metric_name, unit, tags, recorded_at, start_at, temporality,"
    " count, sum, min, max, bounds, counts"
)


def histograms_copy(*, points: list[HistogramPoint]) -> int:
    """Store histogram points in ``apm_metric_histograms`` (COPY into a staging table, one INSERT … SELECT).

    Delta points are stored as they are. A cumulative point is stored as
    its difference to the previous point of its series, found in the batch
    or among the stored points (rules in
    ``apm/sql/queries/histograms_move_staged.sql``; a series seen for the
    first time counts whole only when it started at most
    ``NEW_SERIES_WINDOW`` before the point). Each row gets the wedding
    context of its organization's local date. Returns rows written. Must
    run in a transaction whose tenant context may write the points'
    organizations (RLS checks every row); raises ``django.db.DatabaseError``
    otherwise. Two concurrent batches of one cumulative series could both
    take the same baseline: senders export a series from one process, in order.
    """
    if not points:
        return 0
    with connection.cursor() as cur:
        ensure_stage_table(cur, name="apm_histograms_stage", create_sql=query("histograms_stage_create"))
        with cur.cursor.copy(f"COPY apm_histograms_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            for p in points:
                copy.write_row(
                    (
                        str(p.organization_id),
                        p.service,
                        p.metric_name,
                        p.unit,
                        p.tags_json,
                        p.recorded_at,
                        p.start_at,
                        p.temporality,
                        p.count,
                        p.sum,
                        p.min,
                        p.max,
                        [float(b) for b in p.bounds],
                        p.counts,
                    )
                )
        cur.execute(query("histograms_move_staged"), {"new_series_window": NEW_SERIES_WINDOW})
        return cur.rowcount
