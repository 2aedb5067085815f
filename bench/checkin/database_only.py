"""The database's own limit for single check-ins: pgbench calling gatehouse_record_scan()
directly, no Django, no HTTP, against a durable round trip of the same clients.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_database \\
      .venv/bin/python bench/checkin/database_only.py [--duration 5] [--clients 2] [--rounds 2]

Recreates its own database, seeds an event as run.py does (with an earlier event's scans),
builds one call document with the application's own code (attendance.services.scan), and
runs pgbench, alternating the settings over --rounds rounds: each call is a first-time
check-in of the next fresh participant (a sequence hands them out). Needs `pgbench` (Debian:
postgresql-client). Settings are per session (PGOPTIONS), so the server's configuration is
left alone.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.checkin import run  # noqa: E402 - after the path is set

# name: (PGOPTIONS, script). Each check-in script calls the function once per transaction.
SETTINGS = {
    "durable round trip (baseline)": ("", "round_trip"),
    "check-in, durable (default)": ("", "record"),
    "check-in, synchronous_commit=off (CHECKIN_SYNCHRONOUS_COMMIT=false)": ("-c synchronous_commit=off", "record"),
    "check-in, durable, commit_delay=100 commit_siblings=1 (group commit)": (
        "-c commit_delay=100 -c commit_siblings=1",
        "record",
    ),
}
FIRST_TIME_RATE_CEILING = 8000  # calls per second per run that the seed must cover

CALL_SCRIPT = """
import json, uuid
from datetime import timedelta
from django.utils import timezone
from attendance.services.rules import REFUSALS_JSON, ScanInput
from attendance.services.scan import _call_document
from gates.models import Device
device = Device.objects.select_related("event").get(pk=DEVICE_ID)
scan = ScanInput(gate_code="main-entrance", scanned_at=timezone.now() - timedelta(minutes=10), method="qr_scan",
    participant_id=uuid.UUID(int=0), scan_id=uuid.UUID(int=0))
print(json.dumps({"call": _call_document(device=device, scan=scan, scan_id=scan.scan_id), "refusals": REFUSALS_JSON}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per pgbench run")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gh_bench_database")
    environment = run.production_environment(database_url)
    record_runs = args.rounds * sum(script == "record" for _, script in SETTINGS.values())
    run.recreate_database(database_url)
    print(f"database {database_url.rsplit('/', 1)[1]}: migrating and seeding …", file=sys.stderr)
    subprocess.run([run.PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=environment, check=True)
    seed = run.seed_event(
        environment, participants=record_runs * args.duration * FIRST_TIME_RATE_CEILING, single=0, history=20000
    )
    run.seed_history(database_url, seed)
    with psycopg.connect(database_url, autocommit=True) as connection:
        # The n-th call checks in the n-th participant: every call is a first-time check-in.
        connection.execute("CREATE TABLE bench_fresh (n bigint PRIMARY KEY, public_id text NOT NULL);CREATE SEQUENCE bench_next;")
        connection.execute(
            "INSERT INTO bench_fresh SELECT row_number() OVER (ORDER BY id), public_id::text "
            "FROM participants_participant WHERE event_id = %s",
            [seed["event_id"]],
        )
    run.settle(database_url)
    document = json.loads(
        subprocess.run(
            [run.PYTHON, "manage.py", "shell", "-c", CALL_SCRIPT.replace("DEVICE_ID", str(seed["device_id"]))],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    results: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as scratch:
        scripts = write_scripts(Path(scratch), document)
        for _ in range(args.rounds):
            for name, (options, script) in SETTINGS.items():
                results[name].append(pgbench(database_url, scripts[script], options, args))
    report(args, results)
    with psycopg.connect(database_url) as connection:
        verdicts = connection.execute(
            "SELECT result, count(*) FROM attendance_scan WHERE event_id = %s GROUP BY result ORDER BY result",
            [seed["event_id"]],
        ).fetchall()
    print()
    print("stored scans of the bench event by result (every call should be accepted):", dict(verdicts))
    return 0


def write_scripts(directory: Path, document: dict) -> dict[str, Path]:
    zero = "00000000-0000-0000-0000-000000000000"

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    # A fresh scanId and the next participant go into the application's own call document.
    call = literal(document["call"].replace(zero, "@ID@"))
    # The participant's id comes from an InitPlan, so nextval() runs once per call.
    next_participant = "(SELECT public_id FROM bench_fresh WHERE n = (SELECT nextval('bench_next')))"
    record = (
        "SELECT out_status FROM gatehouse_record_scan(\n"
        f'  replace(replace({call}, \'"scanId":"@ID@"\', \'"scanId":"\' || gen_random_uuid() || \'"\'),\n'
        f'          \'"participantId":"@ID@"\', \'"participantId":"\' || {next_participant} || \'"\')::jsonb,\n'
        f"  {literal(document['refusals'])});\n"
    )
    scripts = {
        "record": directory / "record.sql",
        "round_trip": directory / "round_trip.sql",
    }
    scripts["record"].write_text(record)
    scripts["round_trip"].write_text("SELECT pg_logical_emit_message(true, 'gatehouse-bench', '');\n")
    return scripts


def pgbench(database_url: str, script: Path, options: str, args) -> dict:
    command = ["pgbench", "-n", "-c", str(args.clients), "-j", str(args.clients), "-T", str(args.duration), "-r"]
    command += ["-f", str(script), database_url]
    output = subprocess.run(command, env={**os.environ, "PGOPTIONS": options}, check=True, capture_output=True, text=True).stdout
    tps = float(re.search(r"tps = ([\d.]+)", output).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", output).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", output).group(1))
    return {"tps": tps, "latency_ms": latency, "failed": failed}


def report(args, results: dict[str, list[dict]]) -> None:
    baseline = statistics.median(r["tps"] for r in next(iter(results.values())))
    print()
    print(
        f"pgbench -c{args.clients} -j{args.clients} -T{args.duration}, {args.rounds} alternating rounds "
        f"(median, then min–max), {os.cpu_count()} CPUs"
    )
    print()
    print("| setting | calls/s | vs durable round trip | latency avg ms | failed |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, rounds in results.items():
        tps = sorted(r["tps"] for r in rounds)
        latency = statistics.median(r["latency_ms"] for r in rounds)
        failed = sum(r["failed"] for r in rounds)
        print(
            f"| {name} | {statistics.median(tps):,.0f} ({tps[0]:,.0f}–{tps[-1]:,.0f}) "
            f"| {statistics.median(tps) / baseline:.0%} | {latency:.3f} | {failed} |"
        )


if __name__ == "__main__":
    sys.exit(main())
