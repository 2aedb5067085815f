"""Participant import benchmark: the whole pipeline vs a raw COPY vs django-import-export, on Postgres.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gh_bench_import .venv/bin/python bench/import/run.py

Generates (once, cached in bench/results/) a 100,000-row CSV with mixed Korean and Latin names
and a ~50 MB CSV, creates and migrates the benchmark database if needed, then measures in one
run on this machine:

- pipeline: start_import + run_import (parse, decode check, validate, dedupe, upsert, tokens,
  outbox, counters), as `manage.py import_participants` runs it, in a child process whose peak
  RSS is reported; chunk commit times give the percentiles;
- re-import: the same file again (every row matched, nothing changed);
- COPY: a raw psycopg COPY of the same rows (no validation): the database's ceiling;
- django-import-export: its default row-by-row ModelResource import of the first N rows;
- memory: the pipeline on the ~50 MB file, peak RSS of the importing process.

Results go to bench/results/import.json and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "4")

HEADER = ["이름", "이메일", "전화번호", "소속", "부서", "직급", "생년월일", "지역", "notes"]


def generate(path: Path, rows: int, *, notes_bytes: int = 0, seed: int = 2026) -> Path:
    """Realistic registrations: 60% Korean names, 40% Latin ones; unique emails; KR mobiles."""
    if path.exists():
        return path
    from faker import Faker

    korean, latin = Faker("ko_KR"), Faker("en_US")
    Faker.seed(seed)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    filler = "가나다라마바사아자차카타파하 abcdefghij " * (notes_bytes // 40 + 1)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            person = korean if rng.random() < 0.6 else latin
            writer.writerow(
                [
                    person.name(),
                    f"user{i}.{rng.randrange(10**6)}@{rng.choice(['example.com', 'example.co.kr', 'test.org'])}",
                    f"010-{rng.randrange(2000, 9999)}-{rng.randrange(10000):04d}",
                    person.company(),
                    rng.choice(["개발", "Sales", "마케팅", "HR", "연구소"]),
                    rng.choice(["사원", "대리", "과장", "Manager", "Director"]),
                    f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                    rng.choice(["서울", "부산", "대구", "Incheon", "Jeju"]),
                    filler[: rng.randrange(notes_bytes // 2, notes_bytes + 1)] if notes_bytes else "",
                ]
            )
    return path


def django_setup() -> None:
    import django

    django.setup()


def ensure_database() -> None:
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("Set DATABASE_URL to a Postgres database for the benchmark (it is created if missing).")
    base, name = url.rsplit("/", 1)
    if "bench" not in name:
        sys.exit("The benchmark empties its database: use one whose name contains 'bench'.")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
    django_setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:  # every run starts from empty tables, so runs compare
        cursor.execute(
            "TRUNCATE participants_participant, participants_importjob, participants_importrowerror, "
            "integrations_outboxevent, attendance_scan, events_event CASCADE"
        )


def backend_cpu_seconds() -> dict[int, float]:
    """CPU seconds used so far by each Postgres backend serving the benchmark database.

    The machine is shared, so wall-clock rates swing with other people's load; CPU seconds of
    the importing process and of its Postgres backends do not, and give the idle-machine rate.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [row[0] for row in cursor.fetchall()]
    ticks = os.sysconf("SC_CLK_TCK")
    usage = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # Postgres on another machine: no CPU figures
        usage[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return usage


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def process_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def fresh_event(slug: str):
    from django.utils import timezone

    from events.models import Event, Organization
    from events.signing import generate_keypair

    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    private, public = generate_keypair()
    return Event.objects.create(
        organization=organization,
        slug=slug,
        name=slug,
        starts_at=timezone.now(),
        ends_at=timezone.now() + timezone.timedelta(hours=8),
        signing_private_key=private,
        signing_public_key=public,
    )


# --- child process: one pipeline run, reporting its own peak RSS --------------------------


def child_pipeline(path: str, slug: str, reuse: bool) -> None:
    django_setup()
    from events.models import Event
    from participants.importing.pipeline import run_import, start_import

    baseline_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    event = Event.objects.get(slug=slug) if reuse else fresh_event(slug)
    chunk_times: list[float] = []
    last = [time.perf_counter()]

    def on_progress(job) -> None:
        now = time.perf_counter()
        chunk_times.append(now - last[0])
        last[0] = now

    backends_before, cpu_before = backend_cpu_seconds(), process_cpu_seconds()
    started = time.perf_counter()
    job = start_import(event=event, path=path, filename=Path(path).name, enqueue=False)
    last[0] = time.perf_counter()
    checked = last[0] - started
    job = run_import(job_id=job.pk, on_progress=on_progress)
    seconds = time.perf_counter() - started
    python_cpu = process_cpu_seconds() - cpu_before
    database_cpu = cpu_delta(backends_before, backend_cpu_seconds())
    print(
        json.dumps(
            {
                "rows": job.total_rows,
                "seconds": seconds,
                "check_seconds": checked,
                "created": job.created_count,
                "updated": job.updated_count,
                "duplicates": job.duplicate_count,
                "errors": job.error_count,
                "chunk_ms": [t * 1000 for t in chunk_times],
                "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "baseline_rss_mb": baseline_rss_mb,
                "python_cpu_s": python_cpu,
                "database_cpu_s": database_cpu,
            }
        )
    )


def run_child(*args: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


# --- baselines ----------------------------------------------------------------------------


def copy_ceiling(path: Path) -> dict:
    """The same rows straight into the table with COPY: no validation, no dedupe, no outbox."""
    import uuid

    from django.db import connection
    from django.utils import timezone

    from participants.tokens import generate_token

    event = fresh_event("bench-copy")
    now = timezone.now()
    columns = (
        "event_id, public_id, external_id, name, email, phone, organization, department, position, birth_date, region, "
        "status, token, metadata, email_status, email_attempts, email_last_error, email_message_id, created_at, updated_at"
    )
    backends_before, cpu_before = backend_cpu_seconds(), process_cpu_seconds()
    started = time.perf_counter()
    rows = 0
    with connection.cursor() as cursor, path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY participants_participant ({columns}) FROM STDIN") as copy:
            for name, email, phone, org, dept, position, birth, region, _notes in reader:
                copy.write_row(
                    (event.pk, uuid.uuid4(), "", name, email.lower(), phone, org, dept, position, birth, region)
                    + ("registered", generate_token(), "{}", "unsent", 0, "", "", now, now)
                )
                rows += 1
    seconds = time.perf_counter() - started
    return {
        "rows": rows,
        "seconds": seconds,
        "python_cpu_s": process_cpu_seconds() - cpu_before,
        "database_cpu_s": cpu_delta(backends_before, backend_cpu_seconds()),
    }


def import_export_row_by_row(path: Path, limit: int) -> dict:
    """django-import-export's default import (one get + one save per row) of the first `limit` rows."""
    import tablib
    from import_export import fields, resources, widgets

    from events.models import Event
    from participants.models import Participant

    event = fresh_event("bench-import-export")

    class Resource(resources.ModelResource):
        event = fields.Field(attribute="event", column_name="event", widget=widgets.ForeignKeyWidget(Event))

        class Meta:
            model = Participant
            fields = ("event", "name", "email", "phone", "organization", "department", "position", "birth_date", "region")
            import_id_fields = ("event", "email")

    dataset = tablib.Dataset(headers=["event", *Resource.Meta.fields[1:]])
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for i, (name, email, phone, org, dept, position, birth, region, _notes) in enumerate(reader):
            if i >= limit:
                break
            dataset.append([event.pk, name, email.lower(), phone, org, dept, position, birth, region])
    backends_before, cpu_before = backend_cpu_seconds(), process_cpu_seconds()
    started = time.perf_counter()
    result = Resource().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    assert not result.has_errors()
    return {
        "rows": len(dataset),
        "seconds": seconds,
        "python_cpu_s": process_cpu_seconds() - cpu_before,
        "database_cpu_s": cpu_delta(backends_before, backend_cpu_seconds()),
    }


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs="*")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--import-export-rows", type=int, default=3_000)
    parser.add_argument("--big-mb", type=int, default=50)
    options = parser.parse_args()
    if options.child:
        kind, path, slug, reuse = options.child
        child_pipeline(path, slug, reuse == "reuse")
        return

    ensure_database()
    csv_path = generate(RESULTS / f"participants-{options.rows}.csv", options.rows)
    big_rows = 100_000
    big_path = generate(
        RESULTS / f"participants-{big_rows}-{options.big_mb}mb.csv",
        big_rows,
        notes_bytes=(options.big_mb * 1024 * 1024 // big_rows - 170) * 4 // 5,
    )

    pipeline = run_child("pipeline", str(csv_path), "bench-pipeline", "fresh")
    reimport = run_child("pipeline", str(csv_path), "bench-pipeline", "reuse")
    ceiling = copy_ceiling(csv_path)
    row_by_row = import_export_row_by_row(csv_path, options.import_export_rows)
    memory = run_child("pipeline", str(big_path), "bench-memory", "fresh")

    rate = pipeline["rows"] / pipeline["seconds"]
    results = {
        "rows": pipeline["rows"],
        "pipeline_rows_per_s": rate,
        "pipeline": pipeline | {"chunk_ms": None},
        "chunk_ms_p50": percentile(pipeline["chunk_ms"], 0.5),
        "chunk_ms_p95": percentile(pipeline["chunk_ms"], 0.95),
        "chunk_ms_max": max(pipeline["chunk_ms"]),
        "reimport_rows_per_s": reimport["rows"] / reimport["seconds"],
        "reimport": reimport | {"chunk_ms": None},
        "copy_rows_per_s": ceiling["rows"] / ceiling["seconds"],
        "import_export_rows_per_s": row_by_row["rows"] / row_by_row["seconds"],
        "import_export_rows": row_by_row["rows"],
        "big_file_mb": big_path.stat().st_size / 1024 / 1024,
        "big_file_rows_per_s": memory["rows"] / memory["seconds"],
        "big_file_peak_rss_mb": memory["max_rss_mb"],
        "pipeline_peak_rss_mb": pipeline["max_rss_mb"],
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)

    def idle(measured: dict) -> float:
        # Rows per second if nothing else ran: the import's Python work and Postgres's work
        # overlap (writer thread), so the busier of the two bounds it on >= 2 free cores.
        return measured["rows"] / max(measured["python_cpu_s"], measured["database_cpu_s"], 1e-9)

    copy_rate, ie_rate = results["copy_rows_per_s"], results["import_export_rows_per_s"]
    for name, measured in (("pipeline", pipeline), ("reimport", reimport), ("copy", ceiling), ("import_export", row_by_row)):
        results[f"{name}_cpu_bound_rows_per_s"] = idle(measured)
    print(f"{results['rows']:,} rows, {results['cpus']} CPUs shared, load average {results['load_average'][0]:.1f} at the end\n")
    print("| measure | wall clock (shared machine) | CPU-bound (idle machine) |")
    print("| --- | --- | --- |")
    print(
        f"| whole pipeline: check, parse, validate, dedupe, upsert, tokens, outbox | {rate:,.0f} rows/s ({pipeline['seconds']:.1f} s) "
        f"| {idle(pipeline):,.0f} rows/s (Python {pipeline['python_cpu_s']:.1f} s, Postgres {pipeline['database_cpu_s']:.1f} s CPU) |"
    )
    print(
        f"| re-import of the same file (all matched, nothing changed) | {results['reimport_rows_per_s']:,.0f} rows/s "
        f"| {idle(reimport):,.0f} rows/s |"
    )
    print(
        f"| raw psycopg COPY of the same rows (ceiling) | {copy_rate:,.0f} rows/s; pipeline = {rate / copy_rate:.2f}x "
        f"| {idle(ceiling):,.0f} rows/s; pipeline = {idle(pipeline) / idle(ceiling):.2f}x |"
    )
    print(
        f"| django-import-export default row-by-row ({results['import_export_rows']:,} rows) | {ie_rate:,.0f} rows/s; "
        f"pipeline = {rate / ie_rate:.0f}x | {idle(row_by_row):,.0f} rows/s; pipeline = {idle(pipeline) / idle(row_by_row):.0f}x |"
    )
    print(
        f"| chunk of {os.environ.get('IMPORT_CHUNK_ROWS', 2000)} rows committed, p50 / p95 / max | {results['chunk_ms_p50']:.0f} / "
        f"{results['chunk_ms_p95']:.0f} / {results['chunk_ms_max']:.0f} ms | |"
    )
    print(f"| up-front file check (decode, row count) | {pipeline['check_seconds']:.2f} s | |")
    print(f"| RSS before importing (Django and its apps loaded) | {pipeline['baseline_rss_mb']:.0f} MB | |")
    print(f"| peak RSS of the importing process, 100k-row file | {results['pipeline_peak_rss_mb']:.0f} MB | |")
    print(
        f"| peak RSS of the importing process, {results['big_file_mb']:.0f} MB file | {results['big_file_peak_rss_mb']:.0f} MB "
        f"({results['big_file_rows_per_s']:,.0f} rows/s) | {idle(memory):,.0f} rows/s |"
    )
    (RESULTS / "import.json").write_text(json.dumps(results, indent=2))
    print(f"\nchunks: median {statistics.median(pipeline['chunk_ms']):.0f} ms over {len(pipeline['chunk_ms'])} chunks")


if __name__ == "__main__":
    main()
