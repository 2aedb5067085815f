"""Email benchmark: welcome emails through Celery workers to a local aiosmtpd server, and QR renders.

    .venv/bin/python bench/email/run.py [--emails 10000] [--phase-timeout 120]

Needs PostgreSQL and Redis (DATABASE_URL's server and REDIS_URL; defaults: 127.0.0.1, db 0). It
uses its own database (`<name>_email_bench`, created and migrated if missing) and its own Celery
queue, starts aiosmtpd (Sink handler) in a subprocess, and prints one Markdown table:

- QR renders per second for the segno choices that matter (PNG scales, SVG, fixed mask, cache);
- baselines measured in the same run: raw smtplib over one connection (the SMTP server's limit)
  and the send service called in a loop in one process without Celery;
- half the emails through one worker process, the other half through two, with throughput,
  the ratio to the raw-SMTP baseline and queue→sent latency percentiles;
- a short run with the default 10/s rate limit, to show the limit holds.
"""

import argparse
import io
import os
import signal
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.with_services import free_port, wait_for_port  # noqa: E402 - one helper for tests and benches


def _bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse")
    server, _, name = base.rpartition("/")
    return f"{server}/{name.split('?')[0]}_email_bench"


def _ensure_database(url: str) -> None:
    import psycopg

    server, _, name = url.rpartition("/")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _rate(function, *, seconds: float = 1.5) -> tuple[float, list[float]]:
    """Calls per second of `function`, and per-call latencies (ms)."""
    latencies = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        function()
        latencies.append((time.perf_counter() - t0) * 1000)
    return len(latencies) / (time.perf_counter() - start), latencies


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), to report cost independent of load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=10_000, help="total through workers, split between 1 and 2 processes")
    parser.add_argument("--pool", default="threads", choices=["threads", "prefork", "solo"], help="Celery pool of each worker")
    parser.add_argument("--threads", type=int, default=8, help="concurrency of each worker process")
    parser.add_argument("--skip-qr", action="store_true", help="skip the QR render table")
    parser.add_argument("--phase-timeout", type=float, default=120.0, help="seconds before a phase is cut short")
    args = parser.parse_args()

    smtp_port = free_port()
    queue = f"bench-email-{uuid.uuid4().hex[:8]}"
    database_url = _bench_database_url()
    _ensure_database(database_url)
    os.environ.update(
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        TICKET_EMAIL_RATE_LIMIT="",
        DATABASE_POOL_MAX_SIZE="4",
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
        DEBUG="false",  # as in production: no query log in the workers
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from datetime import timedelta

    from django.utils import timezone

    from config.celery import app
    from events.models import Event
    from events.services import create_event, get_or_create_organization
    from participants.models import Participant
    from participants.tickets import emails
    from participants.tickets import qr as ticket_qr
    from participants.tokens import generate_token

    smtp = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{smtp_port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[subprocess.Popen] = []
    rows: list[tuple] = []
    try:
        wait_for_port(smtp_port)
        # --- data ------------------------------------------------------------------------
        Event.objects.filter(slug="email-bench").delete()
        now = timezone.now()
        event = create_event(
            organization=get_or_create_organization(name="Bench"),
            slug="email-bench",
            name="Email Bench Conference",
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=8),
            venue="COEX",
            language="ko",
            token_prefix="EB26",
        )
        baseline_count = 300
        total = args.emails + baseline_count + 60
        Participant.objects.bulk_create(
            [
                Participant(event=event, name=f"참가자 {i}", email=f"p{i}@bench.example", token=generate_token())
                for i in range(total)
            ],
            batch_size=2000,
        )
        ids = list(Participant.objects.filter(event=event).order_by("pk").values_list("pk", flat=True))
        baseline_ids, ids = ids[:baseline_count], ids[baseline_count:]
        rate_ids, ids = ids[:60], ids[60:]
        one_ids, two_ids = ids[: args.emails // 2], ids[args.emails // 2 :]

        # --- QR renders ------------------------------------------------------------------
        sample = Participant.objects.select_related("event").get(pk=baseline_ids[0])
        payload = ticket_qr.ticket_qr_text(sample)
        import segno

        def png(scale, border, **make):
            def render():
                buffer = io.BytesIO()
                segno.make(payload, error="m", micro=False, **make).save(buffer, kind="png", scale=scale, border=border)

            return render

        def svg():
            segno.make(payload, error="m", micro=False).save(io.BytesIO(), kind="svg", scale=6, border=4)

        qr = segno.make(payload, error="m", micro=False)

        def png_only():
            qr.save(io.BytesIO(), kind="png", scale=6, border=4)

        ticket_qr.participant_qr_png(sample)  # warm the cache entry

        qr_cases = [
            ("QR: segno defaults (mask search) + PNG scale 6, border 4", png(6, 4)),
            ("QR: mask search + PNG scale 3, border 2", png(3, 2)),
            ("QR: mask search + PNG scale 10, border 4", png(10, 4)),
            ("QR: mask search + SVG", svg),
            ("QR: fixed mask 0 + PNG scale 6, border 4 (shipped)", lambda: ticket_qr.render_png(payload)),
            ("QR: fixed mask 0 + SVG (shipped)", lambda: ticket_qr.render_svg(payload)),
            ("QR: PNG scale 6 of an already encoded code", png_only),
            ("QR: cached PNG from Redis (resends, QR link)", lambda: ticket_qr.participant_qr_png(sample)),
        ]
        shipped_qr_rate = None
        for label, function in [] if args.skip_qr else qr_cases:
            rate, latencies = _rate(function)
            shipped_qr_rate = shipped_qr_rate or rate
            rows.append(
                ("qr", label, rate, rate / shipped_qr_rate, _pct(latencies, 50), _pct(latencies, 95), _pct(latencies, 99))
            )

        # --- baselines -------------------------------------------------------------------
        message = emails.build_welcome_email(sample).message()
        raw = message.as_bytes(linesep="\r\n")  # what Django's SMTP backend sends
        with smtplib.SMTP("127.0.0.1", smtp_port) as connection:

            def raw_send():
                connection.sendmail("bench@bench.example", [sample.email], raw)

            raw_rate, raw_latencies = _rate(raw_send, seconds=3)
        rows.append(
            (
                "base",
                "raw smtplib, one connection, prebuilt message (SMTP limit)",
                raw_rate,
                1.0,
                *(_pct(raw_latencies, q) for q in (50, 95, 99)),
            )
        )

        Participant.objects.filter(pk__in=baseline_ids).update(email_status="pending", email_attempts=0)
        latencies = []
        start, cpu_start = time.perf_counter(), time.process_time()
        for pk in baseline_ids:
            t0 = time.perf_counter()
            assert emails.send_welcome_email(participant_id=pk, attempt=0).outcome == "sent"
            latencies.append((time.perf_counter() - t0) * 1000)
        inline_rate = len(baseline_ids) / (time.perf_counter() - start)
        rows.append(
            (
                "base",
                f"send service in a loop, one process, no Celery, CPU {(time.process_time() - cpu_start) / len(baseline_ids) * 1000:.1f} ms/email",
                inline_rate,
                inline_rate / raw_rate,
                *(_pct(latencies, q) for q in (50, 95, 99)),
            )
        )

        # --- through Celery workers ------------------------------------------------------
        env = dict(os.environ)

        def start_workers(count: int, *, rate_limit: str = "") -> list[str]:
            names = []
            for n in range(count):
                name = f"bench{n}-{uuid.uuid4().hex[:6]}@%h"
                # One pooled connection per thread: fewer makes threads queue for the pool.
                worker_env = {**env, "TICKET_EMAIL_RATE_LIMIT": rate_limit, "DATABASE_POOL_MAX_SIZE": str(args.threads)}
                workers.append(
                    subprocess.Popen(
                        [
                            str(ROOT / ".venv/bin/celery"),
                            "-A",
                            "config",
                            "worker",
                            "--pool",
                            "threads",
                            "-c",
                            str(args.threads),
                            "-Q",
                            queue,
                            "-n",
                            name,
                            "--without-gossip",
                            "--without-mingle",
                            "-l",
                            "WARNING",
                        ],
                        cwd=ROOT,
                        env=worker_env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
                names.append(name.replace("%h", os.uname().nodename))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                replies = app.control.ping(destination=names, timeout=1.0)
                if len(replies) == count:
                    return names
            raise RuntimeError("workers did not start")

        def stop_workers() -> None:
            while workers:
                process = workers.pop()
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

        def phase(label: str, count: int, phase_ids: list[int], *, rate_limit: str = "") -> None:
            start_workers(count, rate_limit=rate_limit)
            queued_at = timezone.now()
            t0 = time.perf_counter()
            assert emails.queue_welcome_emails(participant_ids=phase_ids) == len(phase_ids)
            pending = Participant.objects.filter(pk__in=phase_ids).exclude(email_status="sent")
            deadline = t0 + args.phase_timeout
            while pending.exists() and time.perf_counter() < deadline:
                time.sleep(0.2)
            elapsed = time.perf_counter() - t0
            worker_cpu = sum(_cpu_seconds(p.pid) for p in workers)
            stop_workers()
            sent_at = list(
                Participant.objects.filter(pk__in=phase_ids, email_status="sent").values_list("email_sent_at", flat=True)
            )
            latencies = [(s - queued_at).total_seconds() * 1000 for s in sent_at]
            done = len(sent_at)
            if done:
                elapsed = (max(sent_at) - queued_at).total_seconds()
            rate = done / elapsed if elapsed else 0.0
            note = "" if done == len(phase_ids) else f" — cut at {args.phase_timeout:.0f}s, {done}/{len(phase_ids)} sent"
            label = f"{label}: {done} emails, worker CPU {worker_cpu / max(done, 1) * 1000:.1f} ms/email{note}"
            rows.append(("celery", label, rate, rate / raw_rate, *(_pct(latencies, q) for q in (50, 95, 99))))

        phase(f"1 worker process ({args.pool} × {args.threads})", 1, one_ids)
        phase(f"2 worker processes ({args.pool} × {args.threads} each)", 2, two_ids)
        phase("1 worker, default rate limit 10/s", 1, rate_ids, rate_limit="10/s")
    finally:
        for process in workers:
            process.kill()
        smtp.terminate()
        smtp.wait(10)

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"\nEmail benchmark — {os.cpu_count()} CPUs, load average at the end {load}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
    )
    print("| measured | per second | ratio | p50 ms | p95 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for _, label, rate, ratio, p50, p95, p99 in rows:
        print(f"| {label} | {rate:,.1f} | {ratio:.2f} | {p50:,.1f} | {p95:,.1f} | {p99:,.1f} |")
    print(
        "\nratio: QR rows vs segno defaults (first row); email rows vs raw smtplib. Celery latencies are "
        "queue → sent for every email of the phase (so they grow with the backlog)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
