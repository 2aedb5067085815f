import pytest

from gates.authentication import forget_cached_devices


@pytest.fixture(autouse=True)
def _fresh_device_cache():
    """Each test starts with no device remembered by gates.authentication."""
    forget_cached_devices()
    yield
    forget_cached_devices()
