"""Gunicorn configuration for the HTTP API (check-ins): `gunicorn -c config/gunicorn.py config.wsgi`.

Sync workers: one request at a time per process, so each process keeps one persistent database
connection (Django's CONN_MAX_AGE) instead of a psycopg pool. In a single-threaded process a
pool only adds a checkout and a return (locks, a thread wake-up) to every request: 70–230 µs
of CPU per check-in in bench/checkin/inprocess.py (README, Benchmarks → Check-in). Daphne and Celery's
thread pools, where several threads share a process, keep the pool (config/settings.py).
Everything here can still be overridden on the command line or with GUNICORN_CMD_ARGS.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
# Applied to the environment before the workers import Django (and read its settings).
raw_env = [
    f"DATABASE_POOL={os.environ.get('DATABASE_POOL', 'false')}",
    f"CONN_MAX_AGE={os.environ.get('CONN_MAX_AGE', '600')}",
]
