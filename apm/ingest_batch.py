"""What a decoded request of a standard wire format (OTLP, remote-write) holds once mapped to metric points."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PointBatch:
    """Metric point tuples (``apm.services.metrics_copy_tuples``) and their UTC days, plus the data points
    rejected and the distinct reasons why (at most ``MAX_REASONS``, in order of first appearance).

    Each tuple's ``recorded_at`` is an int of µs since 2000-01-01 UTC (``wedsync_ops.db.pg_timestamp_us``):
    the wire formats carry integer epoch times, so no datetime is made."""

    MAX_REASONS = 10

    points: list[tuple] = field(default_factory=list)
    days: set = field(default_factory=set)
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, count: int, reason: str) -> None:
        """Count ``count`` rejected data points for ``reason``."""
        self.rejected += count
        if reason not in self.reasons and len(self.reasons) < self.MAX_REASONS:
            self.reasons.append(reason)
