"""The kicker: a burst of commits asks for a handful of tasks, from a background thread."""

import threading
import time

from django.test import override_settings

from integrations.kick import KICK_INTERVAL_SECONDS, TaskKicker


class CountingTask:
    """Stands in for a Celery task: the kicker only calls .delay() and reads .name."""

    name = "counting"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def delay(self) -> None:
        self.calls.append(threading.current_thread().name)


counting_task = CountingTask()


def test_a_stream_of_kicks_is_coalesced_into_at_most_one_task_per_interval_off_the_callers_thread():
    counting_task.calls.clear()
    kicker = TaskKicker("tests.integrations.test_kick.counting_task")
    started = time.monotonic()
    with override_settings(OUTBOX_KICK=True):
        for _ in range(100):  # a commit every 5 ms for half a second
            kicker.kick()
            time.sleep(0.005)  # the input: a commit every 5 ms
    assert kicker.wait_until_idle(timeout=5)
    elapsed = time.monotonic() - started
    assert 1 <= len(counting_task.calls) <= elapsed / KICK_INTERVAL_SECONDS + 2, len(counting_task.calls)
    assert threading.current_thread().name not in counting_task.calls
