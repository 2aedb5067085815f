"""Writes of the statistics (moving into one module per job)."""

from analytics.services.counting import *  # noqa: F403
from analytics.services.counting import _lock_counter  # noqa: F401
