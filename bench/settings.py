"""Settings for benchmark servers: the product's own, with the check-in baselines routed.

The baselines (bench/checkin/bare_view.py) exist only in bench/: a deployment's URL map
(config.urls) never imports benchmark code, and the import contracts in pyproject.toml check it.
"""

from config.settings import *  # noqa: F403 - the product's settings, unchanged but for the URL map

ROOT_URLCONF = "bench.checkin.urls"
