"""Alertmanager's alert fingerprint, so that our alerts and Alertmanager's agree on identity.

Prometheus computes ``model.LabelSet.Fingerprint()`` as FNV-1a 64-bit over
the labels only: label names sorted (byte order), each name and each value
followed by the separator byte ``0xFF``. Printed as 16 lowercase hex digits
(``%016x``), as in the ``fingerprint`` field of webhook payloads.
"""

from collections.abc import Mapping

FNV1A_64_OFFSET = 0xCBF29CE484222325
FNV1A_64_PRIME = 0x100000001B3
_MASK_64 = 0xFFFFFFFFFFFFFFFF
SEPARATOR = 0xFF


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint of a label set: 16 lowercase hex digits, e.g. ``"3d35165a267914d1"``.

    ``labels`` maps label names to values (both str, encoded as UTF-8;
    a non-str value is converted with ``str()`` first). Annotations are not
    part of the identity and must not be passed. An empty label set gives
    the FNV offset basis ``"cbf29ce484222325"``, as in Prometheus.
    """
    digest = FNV1A_64_OFFSET
    # Python compares str by code point, which orders UTF-8 bytes the same way as Go's string comparison.
    for name in sorted(labels):
        for part in (name, str(labels[name])):
            for byte in part.encode("utf-8"):
                digest = ((digest ^ byte) * FNV1A_64_PRIME) & _MASK_64
            digest = ((digest ^ SEPARATOR) * FNV1A_64_PRIME) & _MASK_64
    return f"{digest:016x}"
