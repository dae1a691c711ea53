"""Regexes and CPU under hostile input (issue 13, item 4): figures and ratios against a baseline of the same run.

1. A silence matcher ``service=~"(a+)+b"`` against ``"a" * n`` (no ``b``: the case that made Python's
   ``re`` backtrack 2^n ways) on the portal's RE2 matchers, next to the baseline ``service=~"a*b"``
   (one linear scan) on the same value: both grow linearly with n (10x n, about 10x time), where
   ``re`` took 2.15 s at n = 26 and four times longer for every 2 more characters (``--with-re``
   times ``re`` itself up to n = 22).
2. Error message normalisation of 10 reports of ``"a." * 5000`` next to 10 ordinary messages of the same
   length (the baseline); and the old quadratic email pattern on one such message.

No database: both are pure functions. Run: ``.venv/bin/python bench/hostile_regex.py [--with-re]``.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wedsync_ops.settings")

import django  # noqa: E402

django.setup()

from apm.errors import normalize_message  # noqa: E402
from wedsync_ops.matchers import matchers_match, parse_matchers  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs of ``fn()``, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-re", action="store_true", help="also time Python's re on (a+)+b (n <= 22)")
    args = parser.parse_args()

    hostile = parse_matchers([{"name": "service", "op": "=~", "value": "(a+)+b"}])
    plain = parse_matchers([{"name": "service", "op": "=~", "value": "a*b"}])  # scans the value too
    print("1. silence matcher on RE2: (a+)+b vs a*b against 'a' * n (1000 matches each)")
    print(f"{'n':>6} {'(a+)+b ms':>10} {'a*b ms':>8} {'ratio':>6}" + ("  re (a+)+b ms" if args.with_re else ""))
    for n in (16, 22, 26, 64, 1_000, 10_000):
        labels = {"service": "a" * n}
        t_hostile = best_of(lambda labels=labels: [matchers_match(hostile, labels) for _ in range(1000)])
        t_plain = best_of(lambda labels=labels: [matchers_match(plain, labels) for _ in range(1000)])
        line = f"{n:>6} {t_hostile * 1000:>10.2f} {t_plain * 1000:>8.2f} {t_hostile / t_plain:>6.2f}"
        if args.with_re and n <= 22:
            compiled = re.compile(r"^(?:(a+)+b)$")
            line += f"  {best_of(lambda n=n, c=compiled: c.match('a' * n), repeat=1) * 1000:>12.1f}"
        print(line)

    print("\n2. error normalisation, 10 messages of 10,000 characters")
    hostile_messages = ["a." * 5000] * 10
    ordinary = ("Payment 4411 failed for 'anna@example.com' at https://pay.example.com/x from 10.0.0.1 " * 120)[:10_000]
    t_hostile = best_of(lambda: [normalize_message(m) for m in hostile_messages])
    t_ordinary = best_of(lambda: [normalize_message(ordinary) for _ in range(10)])
    print(
        f"   'a.' * 5000: {t_hostile * 1000:.1f} ms   ordinary: {t_ordinary * 1000:.1f} ms   "
        f"ratio {t_hostile / t_ordinary:.2f}"
    )
    old = re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b")
    t_old = best_of(lambda: old.sub("<email>", "a." * 5000), repeat=1)
    print(
        f"   the old email pattern alone on one 'a.' * 5000: {t_old * 1000:.1f} ms "
        f"({t_old * 10 / t_hostile:.0f}x the new normaliser's 10 messages)"
    )


if __name__ == "__main__":
    main()
