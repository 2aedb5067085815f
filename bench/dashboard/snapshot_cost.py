"""Counters vs aggregate SQL: what one dashboard snapshot costs as an event's scans grow.

For each size, a fresh event gets N scans (bulk-inserted, 8 gates, ~N/2 participants, 10%
exits, 10% refusals), `rebuild_stats` builds its counters, then it times
- `stats_snapshot` (the counters design: a few small indexed reads + the 5-minute windows), and
- the same numbers computed by aggregate SQL over attendance_scan (the recount the test suite
  uses: COUNT DISTINCT, DISTINCT ON for inside-now, GROUP BYs per gate, hour and method).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/dashboard/snapshot_cost.py --sizes 10000 100000
"""

import argparse
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from analytics import selectors, services  # noqa: E402
from attendance.models import Scan  # noqa: E402
from events import services as event_services  # noqa: E402
from events.models import Event  # noqa: E402
from gates import services as gate_services  # noqa: E402
from participants.models import Participant  # noqa: E402
from tests.analytics.test_counters import sql_recount  # noqa: E402


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def build(size: int, rng: random.Random) -> Event:
    now = timezone.now()
    event = event_services.create_event(
        organization=event_services.get_or_create_organization(name="Bench"),
        slug=f"bench-snapshot-{size}-{uuid.uuid4().hex[:6]}",
        name=f"Snapshot bench {size}",
        starts_at=now - timedelta(hours=6),
        ends_at=now + timedelta(hours=2),
        # Not live: the periodic analytics tasks of a running worker leave it alone.
        status=Event.Status.PUBLISHED,
    )
    gates = [gate_services.create_gate(event=event, code=f"g{n}", capacity_per_minute=60) for n in range(8)]
    Participant.objects.bulk_create(
        [Participant(event=event, name=f"P{n}", email=f"p{n}@example.com") for n in range(size // 2)], batch_size=5000
    )
    people = list(event.participants.values_list("pk", flat=True))
    scans = []
    for _ in range(size):
        refused = rng.random() < 0.1
        scans.append(
            Scan(
                event=event,
                participant_id=rng.choice(people),
                gate=rng.choice(gates),
                scanned_at=event.starts_at + timedelta(seconds=rng.randrange(0, 6 * 3600)),
                method=rng.choice(["qr_scan", "qr_scan", "ble_auto", "manual"]),
                direction="exit" if rng.random() < 0.1 else "entry",
                result="duplicate" if refused else "accepted",
                reason="duplicate_scan" if refused else "",
            )
        )
    Scan.objects.bulk_create(scans, batch_size=5000)
    return event


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rng = random.Random(2026)  # noqa: S311 - reproducible bench data
    print("| scans | rebuild_stats | snapshot from counters p50 / p95 | aggregate SQL p50 / p95 | SQL ÷ counters |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes:
        event = build(size, rng)
        started = time.perf_counter()
        services.rebuild_event_stats(event=event)
        rebuild_ms = (time.perf_counter() - started) * 1000
        counters = timed(lambda event=event: selectors.stats_snapshot(event=event), args.repeat)
        aggregate = timed(lambda event=event: sql_recount(event), args.repeat)
        print(
            f"| {size:,} | {rebuild_ms:,.0f} ms | {percentile(counters, 50):.1f} / {percentile(counters, 95):.1f} ms"
            f" | {percentile(aggregate, 50):.1f} / {percentile(aggregate, 95):.1f} ms"
            f" | {percentile(aggregate, 50) / percentile(counters, 50):.1f}× |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
