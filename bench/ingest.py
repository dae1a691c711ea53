"""Benchmark metric ingest over HTTP: POST batches to /api/v1/metrics/ and report throughput and latency.

Usage (portal running, e.g. ``make run``; a key from ``manage.py create_api_key --org <slug>``)::

    .venv/bin/python bench/ingest.py --key wso_… [--url http://127.0.0.1:8000/api/v1/metrics/]
        [--batches 50] [--batch-size 5000] [--concurrency 4] [--series 20]

Every point has a timestamp within the last minute and one of ``--series``
(service, metric) pairs. Prints points/s over the wall-clock time and the
p50/p95/max request latency in ms; exits 1 if any request is not a 202.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import random
import statistics
import sys
import time

import requests


def make_batch(size: int, series: int, rnd: random.Random) -> bytes:
    """A JSON batch of ``size`` points over ``series`` (service, metric) pairs, timestamps in the last minute."""
    now = time.time()
    points = [
        {
            "service": f"svc-{i % series % 5}",
            "name": f"metric.{i % series}",
            "value": round(rnd.lognormvariate(4, 0.7), 3),
            "unit": "ms",
            "timestamp": round(now - rnd.random() * 60, 3),
            "tags": {"host": f"web-{i % 3}"},
        }
        for i in range(size)
    ]
    return json.dumps({"metrics": points}).encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/api/v1/metrics/")
    parser.add_argument("--key", required=True, help="An organization API key (wso_…).")
    parser.add_argument("--batches", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--series", type=int, default=20)
    args = parser.parse_args(argv)
    if args.batches < 1 or args.batch_size < 1 or args.concurrency < 1 or args.series < 1:
        parser.error("--batches, --batch-size, --concurrency and --series must be positive")

    rnd = random.Random(1)
    bodies = [make_batch(args.batch_size, args.series, rnd) for _ in range(min(args.batches, 10))]
    headers = {"Authorization": f"Bearer {args.key}", "Content-Type": "application/json"}
    session = requests.Session()

    def post(i: int) -> tuple[int, float]:
        started = time.perf_counter()
        response = session.post(args.url, data=bodies[i % len(bodies)], headers=headers, timeout=60)
        return response.status_code, (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        results = list(pool.map(post, range(args.batches)))
    elapsed = time.perf_counter() - started

    latencies = sorted(ms for _, ms in results)
    failed = [code for code, _ in results if code != 202]
    points = (args.batches - len(failed)) * args.batch_size
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(
        f"{points} points in {elapsed:.2f} s = {points / elapsed:,.0f} points/s; "
        f"latency p50 {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, max {latencies[-1]:.0f} ms"
    )
    if failed:
        print(f"{len(failed)} of {args.batches} requests failed: status {sorted(set(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
