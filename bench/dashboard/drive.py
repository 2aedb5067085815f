"""Check-in → websocket latency: drive scans at a fixed rate while a dashboard websocket client listens.

Real mode only (DATABASE_URL + REDIS_URL): starts daphne (web + websocket) and a Celery worker
(the outbox relay) as subprocesses, creates a fresh bench event, then

1. baseline: with no scans flowing, pings the event's stats group directly and times the
   snapshot that comes back (channel layer + consumer + snapshot query: the floor every
   update pays);
2. drive: RATE scans/s for DURATION s, through `POST /api/v1/attendance/record` when the
   server has it, otherwise through the service-level path (the scan row and its
   `attendance.recorded` outbox row in one transaction, as record_scan writes them);
3. reports p50/p95 of (first websocket message whose snapshot includes the scan) − (the
   scan's 201 / commit), messages per second received, and the ratio to the baseline.

A snapshot's `version` is the number of scans counted; the k-th scan to commit counts as
included in the first message with version ≥ k (the relay applies rows in outbox-id order,
which is commit order up to the few transactions in flight at once).

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/dashboard/drive.py --rate 500 --duration 20
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_POOL_MAX_SIZE", "10")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
import websockets  # noqa: E402
from asgiref.sync import async_to_sync  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import close_old_connections, connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from analytics import broadcast  # noqa: E402
from attendance.models import Scan  # noqa: E402
from events import services as event_services  # noqa: E402
from events.models import Event, Membership  # noqa: E402
from gates import services as gate_services  # noqa: E402
from integrations.outbox import publish  # noqa: E402
from participants.models import Participant  # noqa: E402
from tests.with_services import free_port, wait_for_port  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def close_earlier_bench_events() -> None:
    # Earlier runs' events would stay live and keep the periodic tasks busy.
    for event in Event.objects.filter(slug__startswith="bench-", status=Event.Status.LIVE):
        event_services.change_event_status(event=event, to_status=Event.Status.CLOSED)


def setup_event(count: int):
    close_earlier_bench_events()
    stamp = time.strftime("%H%M%S")
    organization = event_services.get_or_create_organization(name="Bench")
    now = timezone.now()
    event = event_services.create_event(
        organization=organization,
        slug=f"bench-dashboard-{stamp}-{uuid.uuid4().hex[:4]}",
        name="Dashboard bench",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=8),
        timezone_name="Asia/Seoul",
        venue="bench",
        status=Event.Status.LIVE,
    )
    gates = [
        gate_services.create_gate(event=event, code=f"gate-{n}", name=f"Gate {n}", direction="entry", capacity_per_minute=600)
        for n in range(8)
    ]
    Participant.objects.bulk_create(
        [Participant(event=event, name=f"Bench {n}", email=f"bench{n}@example.com") for n in range(count)], batch_size=2000
    )
    participants = list(Participant.objects.filter(event=event).values_list("pk", "token"))
    user, _ = get_user_model().objects.get_or_create(username="bench-watcher", defaults={"is_staff": True})
    Membership.objects.get_or_create(organization=organization, user=user, defaults={"role": Membership.Role.STAFF})
    return event, gates, participants, user


def api_available(base_url: str) -> bool:
    response = requests.post(f"{base_url}/api/v1/attendance/record", json={}, timeout=5)
    return response.status_code != 404


class Listener:
    """The dashboard's websocket, in a thread of its own: (arrival time, version) per message."""

    def __init__(self, url: str, cookie: str, origin: str) -> None:
        self.url, self.cookie, self.origin = url, cookie, origin
        self.messages: list[tuple[float, int]] = []
        self.ready = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        headers = {"Cookie": self.cookie}
        async with websockets.connect(self.url, additional_headers=headers, origin=self.origin, max_size=2**24) as ws:
            while not self.stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=0.2)
                except TimeoutError:
                    continue
                self.messages.append((time.monotonic(), json.loads(raw)["data"]["version"]))
                self.ready.set()


def baseline(event: Event, listener: Listener, samples: int) -> list[float]:
    """Ping → snapshot with nothing else going on, spaced past the 250 ms coalescing window."""
    layer = get_channel_layer()
    latencies = []
    for _ in range(samples):
        time.sleep(0.3)
        seen = len(listener.messages)
        sent = time.monotonic()
        async_to_sync(layer.group_send)(broadcast.group_name(event.pk), {"type": "stats.changed", "event": event.pk})
        deadline = sent + 5
        while len(listener.messages) == seen and time.monotonic() < deadline:
            time.sleep(0.001)
        if len(listener.messages) > seen:
            latencies.append(listener.messages[seen][0] - sent)
    return latencies


def drive(*, event, gates, participants, rate: float, duration: float, threads: int, base_url: str | None, key: str | None):
    total = int(rate * duration)
    commits: list[float] = []
    lock = threading.Lock()
    next_index = [0]
    started = time.monotonic() + 0.5
    errors = [0]

    def one_service_scan(index: int) -> None:
        participant_pk, _ = participants[index]
        gate = gates[index % len(gates)]
        with transaction.atomic():
            scan = Scan.objects.create(
                event=event,
                participant_id=participant_pk,
                gate=gate,
                scanned_at=timezone.now(),
                method=Scan.Method.QR_SCAN,
                direction=Scan.Direction.ENTRY,
                result=Scan.Result.ACCEPTED,
            )
            publish(
                topic="attendance.recorded",
                event_id=event.pk,
                organization_id=event.organization_id,
                payload={"scanId": str(scan.scan_id), "gateId": gate.code, "direction": "entry", "method": "qr_scan"},
            )

    def one_api_scan(session: requests.Session, index: int) -> None:
        _, token = participants[index]
        response = session.post(
            f"{base_url}/api/v1/attendance/record",
            json={
                "token": token,
                "gateId": gates[index % len(gates)].code,
                "timestamp": timezone.now().isoformat(),
                "method": "qr_scan",
                "scanId": str(uuid.uuid4()),
            },
            headers={"Authorization": f"Api-Key {key}"},
            timeout=30,
        )
        if response.status_code != 201:
            raise RuntimeError(f"{response.status_code} {response.text[:200]}")

    def worker() -> None:
        session = requests.Session()
        try:
            while True:
                with lock:
                    index = next_index[0]
                    next_index[0] += 1
                if index >= total:
                    return
                due = started + index / rate
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    one_api_scan(session, index) if base_url else one_service_scan(index)
                except Exception as exc:
                    errors[0] += 1
                    if errors[0] < 5:
                        print("scan failed:", exc, file=sys.stderr)
                    continue
                done = time.monotonic()
                with lock:
                    commits.append(done)
        finally:
            close_old_connections()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return started, sorted(commits), errors[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--baseline-samples", type=int, default=40)
    parser.add_argument("--mode", choices=["auto", "api", "service"], default="auto")
    parser.add_argument(
        "--api-workers",
        type=int,
        default=0,
        help="serve the check-in POSTs from gunicorn with this many sync workers (as deployed) instead of daphne",
    )
    args = parser.parse_args()
    if not settings.REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        print("run in real mode: DATABASE_URL=postgres://... REDIS_URL=redis://...", file=sys.stderr)
        return 2

    total = int(args.rate * args.duration)
    event, gates, participants, user = setup_event(total + 10)
    port = free_port()
    logs = ROOT / "bench" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_POOL_MAX_SIZE": "4", "OUTBOX_SWEEP_SECONDS": "5"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "daphne", "-v", "1", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / "dashboard-web.log").open("w"),
        ),
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "-c",
                "2",
                "-l",
                "WARNING",
                # Beat too, as deployed: its outbox sweep relays what a kick lost to a busy relay.
                "-B",
                "-s",
                str(logs / "celerybeat-schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(logs / "dashboard-worker.log").open("w"),
        ),
    ]
    api_port = port
    if args.api_workers:
        # Check-ins on gunicorn sync workers, the websocket on daphne: the production split.
        api_port = free_port()
        processes.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "-c",
                    "config/gunicorn.py",
                    "-w",
                    str(args.api_workers),
                    "-b",
                    f"127.0.0.1:{api_port}",
                    "config.wsgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=(logs / "dashboard-api.log").open("w"),
            )
        )
    try:
        wait_for_port(port)
        wait_for_port(api_port)
        base = f"http://127.0.0.1:{port}"
        api_base = f"http://127.0.0.1:{api_port}"
        use_api = args.mode == "api" or (args.mode == "auto" and api_available(api_base))
        key = None
        if use_api:
            _, key = gate_services.create_device(event=event, name="bench tablet", gate=None, created_by=None)
        client = Client()
        client.force_login(user)
        cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        listener = Listener(f"ws://127.0.0.1:{port}/ws/events/{event.slug}/stats/", cookie, base)
        listener.thread.start()
        if not listener.ready.wait(15):
            print("websocket did not deliver a first snapshot", file=sys.stderr)
            return 1
        time.sleep(1.0)  # let the worker come up

        floor = baseline(event, listener, args.baseline_samples)
        start_version = listener.messages[-1][1]
        first_message = len(listener.messages)

        started, commits, errors = drive(
            event=event,
            gates=gates,
            participants=participants,
            rate=args.rate,
            duration=args.duration,
            threads=args.threads,
            base_url=api_base if use_api else None,
            key=key,
        )
        drive_end = time.monotonic()
        deadline = drive_end + 30
        while time.monotonic() < deadline and (listener.messages[-1][1] - start_version) < len(commits):
            time.sleep(0.05)
        listener.stop.set()
        listener.thread.join(5)

        messages = listener.messages[first_message:]
        latencies, cursor, missing = [], 0, 0
        for k, committed in enumerate(commits, start=1):
            while cursor < len(messages) and (messages[cursor][1] - start_version < k or messages[cursor][0] < committed):
                cursor += 1
            if cursor == len(messages):
                missing = len(commits) - k + 1
                break
            latencies.append(messages[cursor][0] - committed)
        in_window = [t for t, _ in messages if started <= t <= drive_end]
        achieved = len(commits) / (commits[-1] - started) if commits else 0
        report = {
            "path": "POST /api/v1/attendance/record" if use_api else "service-level insert + outbox publish",
            "target_rate": args.rate,
            "achieved_rate": round(achieved, 1),
            "scans": len(commits),
            "errors": errors,
            "not_seen": missing,
            "latency_ms": {
                "p50": round(percentile(latencies, 50) * 1000, 1),
                "p95": round(percentile(latencies, 95) * 1000, 1),
                "max": round(max(latencies) * 1000, 1),
            },
            "baseline_ping_to_snapshot_ms": {
                "p50": round(percentile(floor, 50) * 1000, 1),
                "p95": round(percentile(floor, 95) * 1000, 1),
            },
            "messages_per_second": round(len(in_window) / (drive_end - started), 2),
            "max_messages_per_second_by_design": round(1 / settings.STATS_PUSH_INTERVAL_SECONDS, 2),
        }
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - created_at)),"
                " percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM relayed_at - created_at))"
                " FROM integrations_outboxevent WHERE event_id = %s AND topic = 'attendance.recorded'",
                [event.pk],
            )
            lag50, lag95 = cursor.fetchone()
        # Where the time goes: outbox row written → relayed (the relay's lag) is part of the latency.
        report["relay_lag_ms"] = {"p50": round((lag50 or 0) * 1000, 1), "p95": round((lag95 or 0) * 1000, 1)}
        report["latency_p50_vs_baseline"] = round(report["latency_ms"]["p50"] / report["baseline_ping_to_snapshot_ms"]["p50"], 1)
        print(json.dumps(report, indent=2))
        return 0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    sys.exit(main())
