"""Check-in writes: record_scan() for one scan, record_batch() for an offline device's backlog.

Contract (both): every verdict comes back as data, a ScanOutcome (accepted, refused, replayed
or an idempotency conflict), never as an exception; every identifiable scan is stored —
accepted or not — together with the exact status and body it was answered with, so a replayed
scanId gets the same answer and stores nothing new; the participant row is locked for the decision, so of any number of concurrent
scans of one participant exactly the rules' number is accepted; an accepted scan writes its
`attendance.recorded` outbox row in the same transaction. Nothing here calls Redis.

Why SQL on Postgres: this is the hottest path of the product (benchmarked in bench/checkin).
A single check-in is one statement, gatehouse_record_scan() (the latest
attendance/sql/record_scan/NNNN.sql), so its transaction is one round trip; its rules are
decide()'s. /batch uses decide() with array inserts; the embedded (SQLite) mode uses decide()
through the ORM (record_scan(portable=True) on Postgres). tests/attendance/test_rule_parity.py
runs all three over generated cases and compares what they answer, store and publish.
"""

from attendance.services.batch import MAX_BATCH_SIZE, check_batch_size, record_batch
from attendance.services.rules import (
    IDEMPOTENCY_CONFLICT,
    BatchTooLarge,
    ScanInput,
    ScanOutcome,
    is_ticket_text,
    ticket_token,
)
from attendance.services.scan import record_scan

__all__ = [
    "IDEMPOTENCY_CONFLICT",
    "MAX_BATCH_SIZE",
    "BatchTooLarge",
    "ScanInput",
    "ScanOutcome",
    "check_batch_size",
    "is_ticket_text",
    "record_batch",
    "record_scan",
    "ticket_token",
]
