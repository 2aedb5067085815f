"""Check-in benchmark: the production server configuration on 127.0.0.1, driven from another process.

    .venv/bin/python bench/checkin/run.py [--duration 10] [--connections 32] [--batches 8]

Measures in one run, side by side:
  * POST /api/v1/attendance/record at concurrency 32 (wrk): distinct first-time participants,
    then repeated participants (every scan a duplicate / already checked in);
  * the same server answering a bare Django JSON view (the framework's limit), and that view
    plus one SQL round trip whose commit flushes WAL (the floor of any durable write);
  * all of it three times: durable commits right after the seed's checkpoint, relaxed commits
    (CHECKIN_SYNCHRONOUS_COMMIT=false), durable commits again; with the WAL written per request;
  * POST /api/v1/attendance/batch with 1000 scans per request, against a raw psycopg insert of
    the same rows (executemany and COPY: the database's limit).
Server: gunicorn as deployed (config/gunicorn.py: sync workers, 2 of them here, one persistent
database connection each), DJANGO_ENV=production (DEBUG off), its own Postgres database
(BENCH_DATABASE_URL, recreated each run). Needs `wrk` (Debian: apt-get install wrk).
"""

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.with_services import free_port, wait_for_port  # noqa: E402 - one helper for tests and benches

HERE = Path(__file__).resolve().parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gh_issue6_bench"
GATES = ["main-entrance", "east-entrance", "west-entrance", "south-entrance"]
BATCH_SIZE = 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk scenario")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--batches", type=int, default=8, help="batches of 1000 scans for the batch measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--history-participants",
        type=int,
        default=20000,
        help="participants of an earlier event, 5 stored scans each (a database that has run events before)",
    )
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    distinct_needed = args.duration * 3 * 2500  # three runs, up to 2500 first-time scans/s each
    environment = production_environment(database_url)
    recreate_database(database_url)
    print(f"database {database_url.rsplit('/', 1)[1]}: migrating and seeding …", file=sys.stderr)
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True)
    seed = seed_event(
        environment,
        participants=distinct_needed + args.batches * BATCH_SIZE,
        single=distinct_needed,
        history=args.history_participants,
    )
    seed_history(database_url, seed)
    settle(database_url)

    # Durable twice: first right after the seed's checkpoint, when most pages a check-in writes
    # cost a full-page image in the WAL it must flush, and again once they have been written.
    configurations = {
        "durable": {},
        "relaxed": {"CHECKIN_SYNCHRONOUS_COMMIT": "false"},
        "durable-again": {},
    }
    share = len(seed["single"]) // len(configurations)
    results, batch = {}, None
    for number, (name, overrides) in enumerate(configurations.items()):
        ids = seed["single"][number * share : (number + 1) * share]
        with running_server({**environment, **overrides}, args.workers) as (base, log_path):
            results[name] = single_scenarios(base, args, seed["key"], ids, database_url)
            if batch is None:
                batch = measure_batches(base, seed, database_url)
    report(args, results, batch, log_path)
    return 0


def production_environment(database_url: str) -> dict:
    """The server's environment: production settings, a bench secret, the bench's database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",  # production settings, baselines routed
        "DJANGO_ENV": "production",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/6")),
        "LOG_LEVEL": "ERROR",
    }


@contextlib.contextmanager
def running_server(environment: dict, workers: int):
    port = free_port()
    log_fd, log_path = tempfile.mkstemp(prefix="bench-checkin-gunicorn-", suffix=".log")
    server = subprocess.Popen(
        [GUNICORN, "-c", "config/gunicorn.py", "config.wsgi:application", "-w", str(workers), "-b", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=environment,
        stdout=log_fd,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        server.terminate()
        server.wait(20)
        os.close(log_fd)


def single_scenarios(base: str, args, key: str, ids: list[str], database_url: str) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        distinct_ids = Path(scratch, "distinct.txt")
        distinct_ids.write_text("\n".join(ids) + "\n")
        repeat_ids = Path(scratch, "repeat.txt")
        repeat_ids.write_text("\n".join(ids[:500]) + "\n")
        common = {"BENCH_KEY": key, "BENCH_THREADS": "2"}
        bare = {**common, "BENCH_PATH": "/bench/bare-json", "BENCH_IDS": str(distinct_ids)}
        record = {**common, "BENCH_PATH": "/api/v1/attendance/record"}
        wrk(base, args, bare, warmup=True)
        round_trip = {**common, "BENCH_PATH": "/bench/one-round-trip-commit", "BENCH_IDS": str(distinct_ids)}
        scenarios = {
            "bare": bare,
            "round_trip": round_trip,
            "distinct": {**record, "BENCH_IDS": str(distinct_ids), "BENCH_GATES": GATES[0]},
            "repeat": {**record, "BENCH_IDS": str(repeat_ids), "BENCH_GATES": ",".join(GATES)},
        }
        return {name: with_wal(database_url, lambda env=env: wrk(base, args, env)) for name, env in scenarios.items()}


def with_wal(url: str, run) -> dict:
    """The run's result with the WAL Postgres wrote meanwhile, per request (pg_stat_wal)."""
    query = "SELECT wal_fpi, wal_bytes FROM pg_stat_wal"
    with psycopg.connect(url, autocommit=True) as connection:
        fpi_before, bytes_before = connection.execute(query).fetchone()
        result = run()
        fpi_after, bytes_after = connection.execute(query).fetchone()
    result["wal_fpi"] = (fpi_after - fpi_before) / max(result["requests"], 1)
    result["wal_bytes"] = float(bytes_after - bytes_before) / max(result["requests"], 1)
    return result


def seed_history(url: str, seed: dict) -> None:
    """An earlier event's participants and scans, so the check-ins run against a scan table of
    realistic size with statistics, as on a platform that has run events before.

    On an empty scan table Postgres plans the check-in's history read as a sequential scan and
    each connection keeps that cached plan while the table grows, until autovacuum analyses the
    table (up to a minute later): the first run measured then showed that cold start (459 vs
    911 check-ins/s in the same run), not the steady state. README, "Check-in", says more.
    """
    with psycopg.connect(url) as connection:
        connection.execute(
            "INSERT INTO attendance_scan (scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, "
            "  method, direction, result, reason, request_fingerprint, response_status, response_body) "
            "SELECT gen_random_uuid(), p.event_id, p.id, NULL, NULL, e.starts_at + (k * interval '1 hour'), "
            "  e.starts_at + (k * interval '1 hour'), 'qr_scan', CASE WHEN k %% 2 = 0 THEN 'entry' ELSE 'exit' END, "
            "  'accepted', '', repeat('0', 64), 201, '{}' "
            "FROM participants_participant p JOIN events_event e ON e.id = p.event_id, generate_series(0, 4) k "
            "WHERE p.event_id = %s",
            [seed["history_event_id"]],
        )


def settle(url: str) -> None:
    """Vacuum, analyse and checkpoint after seeding (as pgbench does before a run), so the first
    scenario does not share the machine with autovacuum and a checkpoint of the seed."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        connection.execute("CHECKPOINT")


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    maintenance = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


SEED_SCRIPT = """
import json, sys
from datetime import timedelta
from django.utils import timezone
from events import services as events
from gates import services as gates
from participants.models import Participant
now = timezone.now()
organization = events.get_or_create_organization(name="Bench")
event = events.create_event(organization=organization, slug="bench-event", name="Bench", status="live",
    starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8))
for code in GATES:
    gates.create_gate(event=event, code=code)
device, key = gates.create_device(event=event, name="bench tablet")
people = Participant.objects.bulk_create(
    [Participant(event=event, name=f"Guest {n}", email=f"guest{n}@example.com") for n in range(COUNT)], batch_size=5000)
ids = [str(p.public_id) for p in people]
earlier = events.create_event(organization=organization, slug="bench-earlier", name="Earlier", status="draft",
    starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=30) + timedelta(hours=8))
Participant.objects.bulk_create(
    [Participant(event=earlier, name=f"Earlier {n}", email=f"earlier{n}@example.com") for n in range(HISTORY)], batch_size=5000)
print(json.dumps({"key": key, "event_id": event.pk, "device_id": device.pk, "gate_id": event.gates.get(code=GATES[0]).pk,
    "organization_id": organization.pk, "history_event_id": earlier.pk, "ids": ids}))
"""


def seed_event(environment: dict, *, participants: int, single: int, history: int) -> dict:
    script = SEED_SCRIPT.replace("GATES", repr(GATES)).replace("COUNT", str(participants)).replace("HISTORY", str(history))
    output = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=environment, check=True, capture_output=True, text=True
    ).stdout
    seed = json.loads(output.strip().splitlines()[-1])
    seed["single"], seed["batch"] = seed["ids"][:single], seed["ids"][single:]
    return seed


def wrk(base: str, args, extra_env: dict, *, warmup: bool = False) -> dict:
    duration = 2 if warmup else args.duration
    command = [
        "wrk",
        "-t2",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "record.lua"),
        base,
    ]
    run = {"BENCH_RUN": uuid.uuid4().hex[:8]}
    output = subprocess.run(command, env={**os.environ, **extra_env, **run}, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure_batches(base: str, seed: dict, database_url: str) -> dict:
    """Batches of first-time scans through /batch, then the same rows straight into Postgres."""
    batch_ids = seed["batch"]
    now = time.time()
    batches = []
    for start in range(0, len(batch_ids), BATCH_SIZE):
        chunk = batch_ids[start : start + BATCH_SIZE]
        batches.append(
            [
                {
                    "participantId": pid,
                    "gateId": GATES[0],
                    "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 600 + n * 0.01)),
                    "method": "qr_scan",
                    "scanId": str(uuid.uuid4()),
                }
                for n, pid in enumerate(chunk)
            ]
        )
    request_seconds, successful = [], 0
    for scans in batches:
        body = json.dumps({"scans": scans}).encode()
        request = urllib.request.Request(
            f"{base}/api/v1/attendance/batch",
            data=body,
            headers={"Content-Type": "application/json", "Authorization": f"Api-Key {seed['key']}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - our own local server
            answer = json.loads(response.read())
        request_seconds.append(time.perf_counter() - started)
        successful += len(answer["successful"])
    api_rate = successful / sum(request_seconds)

    # The database's limit: the same rows (as the service would store them) inserted by psycopg.
    rows = raw_rows(seed, batches)
    columns = (
        "scan_id, event_id, participant_id, gate_id, device_id, scanned_at, received_at, method, direction, result, "
        "reason, location, device_info, request_fingerprint, response_status, response_body"
    )
    with psycopg.connect(database_url) as connection:
        participant_ids = dict(
            connection.execute("SELECT public_id::text, id FROM participants_participant WHERE event_id = %s", [seed["event_id"]])
        )
        rows = [(*row[:2], participant_ids[row[2]], *row[3:]) for row in rows]
        executemany_seconds = []
        for start in range(0, len(rows), BATCH_SIZE):
            chunk = [(uuid.uuid4(), *row[1:]) for row in rows[start : start + BATCH_SIZE]]
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO attendance_scan ({columns}) VALUES ({', '.join(['%s'] * 16)})", chunk)  # noqa: S608
            connection.commit()
            executemany_seconds.append(time.perf_counter() - started)
        copy_seconds = []
        for start in range(0, len(rows), BATCH_SIZE):
            chunk = [(uuid.uuid4(), *row[1:]) for row in rows[start : start + BATCH_SIZE]]
            started = time.perf_counter()
            with connection.cursor() as cursor, cursor.copy(f"COPY attendance_scan ({columns}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
            connection.commit()
            copy_seconds.append(time.perf_counter() - started)
    return {
        "scans": successful,
        "api_rate": api_rate,
        "api_batch_ms": [s * 1000 for s in request_seconds],
        "executemany_rate": len(rows) / sum(executemany_seconds),
        "copy_rate": len(rows) / sum(copy_seconds),
    }


def raw_rows(seed: dict, batches: list[list[dict]]) -> list[tuple]:
    received = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    rows = []
    for scans in batches:
        for scan in scans:
            body = json.dumps({"scanId": scan["scanId"], "result": "accepted", "participant": {"id": scan["participantId"]}})
            rows.append(
                (
                    scan["scanId"],
                    seed["event_id"],
                    scan["participantId"],
                    seed["gate_id"],
                    seed["device_id"],
                    scan["timestamp"],
                    received,
                    "qr_scan",
                    "entry",
                    "accepted",
                    "",
                    None,
                    None,
                    "0" * 64,
                    201,
                    body,
                )
            )
    return rows


def report(args, results: dict, batch: dict, log_path: str) -> None:
    print()
    print(f"gunicorn {args.workers} sync workers, wrk -t2 -c{args.connections} -d{args.duration}s, {os.cpu_count()} CPUs")
    print()
    print("| commit mode | scenario | req/s | vs bare view | p50 ms | p95 ms | p99 ms | non-2xx | WAL B/req | FPI/req |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    labels = {
        "bare": "bare Django JSON view (baseline)",
        "round_trip": "bare view + one SQL round trip + durable commit",
        "distinct": "record, distinct first-time participants",
        "repeat": "record, repeated participants (409s)",
    }
    modes = {
        "durable": "durable (default), first",
        "relaxed": "CHECKIN_SYNCHRONOUS_COMMIT=false",
        "durable-again": "durable (default), again",
    }
    for mode, scenarios in results.items():
        bare = scenarios["bare"]["rps"]
        for key, label in labels.items():
            r = scenarios[key]
            print(
                f"| {modes[mode]} | {label} | {r['rps']:.0f} | {r['rps'] / bare:.0%} | {r['p50_us'] / 1000:.1f} "
                f"| {r['p95_us'] / 1000:.1f} | {r['p99_us'] / 1000:.1f} | {r['non_2xx']} "
                f"| {r['wal_bytes']:.0f} | {r['wal_fpi']:.2f} |"
            )
    print()
    print("| batches of 1000 scans | scans/s | /batch vs this |")
    print("| --- | ---: | ---: |")
    print(f"| POST /api/v1/attendance/batch ({batch['scans']} scans) | {batch['api_rate']:.0f} | — |")
    print(
        f"| raw psycopg executemany, same rows | {batch['executemany_rate']:.0f} | {batch['api_rate'] / batch['executemany_rate']:.0%} |"
    )
    print(f"| raw psycopg COPY, same rows | {batch['copy_rate']:.0f} | {batch['api_rate'] / batch['copy_rate']:.0%} |")
    print()
    median = statistics.median(batch["api_batch_ms"])
    print(f"/batch request time: median {median:.0f} ms, max {max(batch['api_batch_ms']):.0f} ms")
    print(f"last server log: {log_path}")


if __name__ == "__main__":
    sys.exit(main())
