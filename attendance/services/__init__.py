"""Check-in writes: record_scan() for one scan, record_batch() for an offline device's backlog.

Contract (both): every identifiable scan is stored — accepted or not — together with the exact
status and body it was answered with, so a replayed scanId gets the same answer and stores
nothing new; the participant row is locked for the decision, so of any number of concurrent
scans of one participant exactly the rules' number is accepted; an accepted scan writes its
`attendance.recorded` outbox row in the same transaction. Nothing here calls Redis.

Why raw SQL (psycopg, pipeline mode) on Postgres: this is the hottest path of the product
(benchmarked in bench/checkin); the statements are few, fixed and parameterised, and each
round trip and ORM layer skipped is measurable there. Other databases (the embedded SQLite
mode) take the same steps through the ORM. The rules themselves are plain Python in `decide()`.
"""

from attendance.services.batch import MAX_BATCH_SIZE, check_batch_size, record_batch
from attendance.services.rules import BatchOutcome, BatchTooLarge, IdempotencyConflict, ScanInput, ScanOutcome, ScanRejected
from attendance.services.scan import record_scan

__all__ = [
    "MAX_BATCH_SIZE",
    "BatchOutcome",
    "BatchTooLarge",
    "IdempotencyConflict",
    "ScanInput",
    "ScanOutcome",
    "ScanRejected",
    "check_batch_size",
    "record_batch",
    "record_scan",
]
