"""What one request costs in-process: Django's WSGI handler called in a loop, no HTTP server and
no load generator, so code changes can be compared with far less noise than run.py's.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_inprocess \\
      .venv/bin/python bench/checkin/inprocess.py [--requests 3000] [--batches 8]

Seeds its own database (as run.py does, with an earlier event's scans), then, alternately with
the psycopg pool and with a persistent connection (config/gunicorn.py), measures per request:
the bare view, the round-trip baseline, POST /attendance/record with first-time participants,
and POST /attendance/batch with 1000 first-time scans. CPU is the process's CPU time (every
thread, the relay kicker's included); wall is elapsed time, database waits included.
"""

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.checkin import run  # noqa: E402 - after the path is set

SETTINGS = {"psycopg pool": {"DATABASE_POOL": "true"}, "persistent connection": {"DATABASE_POOL": "false"}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="settings alternate this many times; medians are shown")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(json.loads(Path(args.child).read_text()))
        return 0

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gh_bench_inprocess")
    environment = run.production_environment(database_url)
    per_setting = args.requests + 200 + (args.batches + 1) * run.BATCH_SIZE
    run.recreate_database(database_url)
    print(f"database {database_url.rsplit('/', 1)[1]}: migrating and seeding …", file=sys.stderr)
    subprocess.run([run.PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True)
    runs = [name for _ in range(args.rounds) for name in SETTINGS]
    seed = run.seed_event(environment, participants=per_setting * len(runs), single=0, history=20000)
    run.seed_history(database_url, seed)
    run.settle(database_url)

    results: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as scratch:
        for number, name in enumerate(runs):
            ids = seed["ids"][number * per_setting : (number + 1) * per_setting]
            job = Path(scratch, f"job-{number}.json")
            job.write_text(json.dumps({"key": seed["key"], "ids": ids, "requests": args.requests, "batches": args.batches}))
            output = subprocess.run(
                [run.PYTHON, __file__, "--child", str(job)],
                cwd=ROOT,
                env={**environment, **SETTINGS[name]},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            results[name].append(json.loads(output.strip().splitlines()[-1]))
    report(args, results)
    return 0


def measure(job: dict) -> None:
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    key, ids, requests = job["key"], job["ids"], job["requests"]

    def call(path: str, body: bytes) -> str:
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Api-Key {key}",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.errors": sys.stderr,
        }
        answered = []
        response = application(environ, lambda status, headers, exc_info=None: answered.append(status))
        b"".join(response)
        response.close()
        return answered[0]

    def scan(participant_id: str, offset: float = 0.0) -> dict:
        at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 600 + offset))
        return {
            "participantId": participant_id,
            "gateId": "main-entrance",
            "timestamp": at,
            "method": "qr_scan",
            "scanId": str(uuid.uuid4()),
        }

    def timed(bodies: list[tuple[str, bytes]], expected: str) -> dict:
        cpu, wall = time.process_time(), time.perf_counter()
        statuses = [call(path, body) for path, body in bodies]
        unexpected = sum(status != expected for status in statuses)
        return {
            "cpu_us": (time.process_time() - cpu) / len(bodies) * 1e6,
            "wall_us": (time.perf_counter() - wall) / len(bodies) * 1e6,
            "unexpected": unexpected,
        }

    warm, single, batch_ids = ids[:200], ids[200 : 200 + requests], ids[200 + requests :]
    for participant_id in warm:  # imports, prepared statements, caches
        call("/api/v1/attendance/record", json.dumps(scan(participant_id)).encode())
        call("/bench/bare-json", b"{}")
        call("/bench/one-round-trip-commit", b"{}")
    bare = [("/bench/bare-json", json.dumps(scan(p)).encode()) for p in single]
    chunks = [batch_ids[n : n + 1000] for n in range(0, len(batch_ids), 1000)]
    batches = [
        ("/api/v1/attendance/batch", json.dumps({"scans": [scan(p, i * 0.01) for i, p in enumerate(chunk)]}).encode())
        for chunk in chunks
    ]
    call(*batches[0])  # warm the batch path
    result = {
        "bare": timed(bare, "201 Created"),
        "round_trip": timed([("/bench/one-round-trip-commit", body) for _, body in bare], "201 Created"),
        "record": timed([("/api/v1/attendance/record", body) for _, body in bare], "201 Created"),
        "batch": timed(batches[1 : job["batches"] + 1], "200 OK"),
    }
    print(json.dumps(result))


def report(args, results: dict[str, list[dict]]) -> None:
    print()
    print(
        f"in-process, {args.requests} requests each, batches of 1000 × {args.batches}, "
        f"{args.rounds} alternating rounds (median, then min–max), {os.cpu_count()} CPUs"
    )
    print()
    print("| database connection | request | CPU µs/request | wall µs/request | unexpected status |")
    print("| --- | --- | ---: | ---: | ---: |")
    labels = {
        "bare": "bare Django JSON view",
        "round_trip": "bare view + one round trip + durable commit",
        "record": "record, first-time participant",
        "batch": "batch of 1000 first-time scans",
    }
    for name, rounds in results.items():
        for key, label in labels.items():
            cpu = sorted(r[key]["cpu_us"] for r in rounds)
            wall = sorted(r[key]["wall_us"] for r in rounds)
            unexpected = sum(r[key]["unexpected"] for r in rounds)
            print(
                f"| {name} | {label} | {statistics.median(cpu):,.0f} ({cpu[0]:,.0f}–{cpu[-1]:,.0f}) "
                f"| {statistics.median(wall):,.0f} ({wall[0]:,.0f}–{wall[-1]:,.0f}) | {unexpected} |"
            )


if __name__ == "__main__":
    sys.exit(main())
