"""Waiting on a condition with a deadline: what tests use instead of fixed sleeps."""

import time


def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.05, message: str = "condition"):
    """Return the predicate's first truthy value; fail naming `message` if the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
