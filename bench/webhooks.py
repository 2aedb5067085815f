"""Benchmark: webhook relay and delivery against a local HTTP receiver, side by side with the limits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gatehouse_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/webhooks.py --events 1000

Measured in one run, on one machine, against one receiver (a keep-alive stdlib HTTP server
answering 200 at once):
- baseline: a bare `requests.Session.post` loop sending the same bodies (the HTTP limit);
- deliver: `integrations.webhooks.deliver_due` — claim, sign, POST, record the attempt;
- relay: `integrations.relay.relay_all` with the webhook sink creating one delivery per event.
Results are rates, the ratio to the baseline, and latency percentiles per message.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS", "true")
os.environ.setdefault("OUTBOX_KICK", "false")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402

from events.models import Event, Organization  # noqa: E402
from events.signing import generate_keypair  # noqa: E402
from integrations import webhooks  # noqa: E402
from integrations.models import WebhookDelivery, WebhookEndpoint  # noqa: E402
from integrations.outbox import OutboxEvent, publish  # noqa: E402
from integrations.relay import relay_all  # noqa: E402
from integrations.webhooks import deliver_due, message_body  # noqa: E402


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle + delayed ACK add ~40 ms each.
    disable_nagle_algorithm = True

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    cut = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"p50 {cut[49]:.2f} ms, p95 {cut[94]:.2f} ms, p99 {cut[98]:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/hook"

    private, public = generate_keypair()
    organization = Organization.objects.create(name=f"bench-{time.time_ns()}", slug=f"bench-{time.time_ns()}")
    event = Event.objects.create(
        organization=organization,
        slug=f"bench-{time.time_ns()}",
        name="bench",
        starts_at=django.utils.timezone.now(),
        ends_at=django.utils.timezone.now() + django.utils.timezone.timedelta(hours=1),
        signing_private_key=private,
        signing_public_key=public,
    )
    WebhookEndpoint.objects.create(organization=organization, url=url)
    try:
        for n in range(args.events):
            with transaction.atomic():
                publish(
                    topic="attendance.recorded",
                    event_id=event.pk,
                    organization_id=organization.pk,
                    payload={"n": n, "participantId": "5b0c7a2e-0000-4000-8000-000000000000", "gateId": "main-entrance"},
                )
        rows = list(OutboxEvent.objects.filter(event_id=event.pk).order_by("id"))

        # Baseline: the same bodies through a bare requests session.
        session = requests.Session()
        bodies = [message_body(row) for row in rows]
        baseline_ms = []
        started = time.perf_counter()
        for body in bodies:
            t0 = time.perf_counter()
            session.post(url, data=body, headers={"content-type": "application/json"}, timeout=10).raise_for_status()
            baseline_ms.append((time.perf_counter() - t0) * 1000)
        baseline_seconds = time.perf_counter() - started

        started = time.perf_counter()
        relay_all()
        relay_seconds = time.perf_counter() - started
        assert WebhookDelivery.objects.filter(outbox_event__event_id=event.pk).count() == args.events

        attempt_ms = []
        attempt_delivery = webhooks.attempt_delivery

        def timed_attempt(**kwargs):
            t0 = time.perf_counter()
            try:
                return attempt_delivery(**kwargs)
            finally:
                attempt_ms.append((time.perf_counter() - t0) * 1000)

        webhooks.attempt_delivery = timed_attempt
        started = time.perf_counter()
        while deliver_due(limit=args.events):
            pass
        deliver_seconds = time.perf_counter() - started
        webhooks.attempt_delivery = attempt_delivery
        deliveries = WebhookDelivery.objects.filter(outbox_event__event_id=event.pk)
        assert deliveries.filter(status="succeeded").count() == args.events

        n = args.events
        print(f"events: {n}, receiver: keep-alive stdlib HTTP server on 127.0.0.1")
        print("| step | messages/s | vs bare requests | latency per message |")
        print("| --- | --- | --- | --- |")
        print(f"| bare requests.post (baseline) | {n / baseline_seconds:.0f} | 1.00 | {percentiles(baseline_ms)} |")
        print(
            f"| deliver_due (claim, sign, POST, record) | {n / deliver_seconds:.0f} | {baseline_seconds / deliver_seconds:.2f} | "
            f"{percentiles(attempt_ms)} (sign, POST, record); {deliver_seconds / n * 1000:.2f} ms mean with the claim |"
        )
        print(f"| relay_all with the webhook sink | {n / relay_seconds:.0f} | — | mean {relay_seconds / n * 1000:.2f} ms |")
    finally:
        WebhookDelivery.objects.filter(endpoint__organization=organization).delete()
        OutboxEvent.objects.filter(event_id=event.pk).delete()
        WebhookEndpoint.objects.filter(organization=organization).delete()
        event.delete()
        organization.delete()
        server.shutdown()


if __name__ == "__main__":
    main()
