"""The product's URL map plus the check-in benchmark's baselines (served with bench.settings)."""

from django.urls import path

from bench.checkin.bare_view import bare_json, one_round_trip_commit
from config.urls import urlpatterns as product_urlpatterns

# After the product's routes, as a deployment's would be: resolving the gate API costs the same.
urlpatterns = [
    *product_urlpatterns,
    path("bench/bare-json", bare_json),
    path("bench/one-round-trip-commit", one_round_trip_commit),
]
