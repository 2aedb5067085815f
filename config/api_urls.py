"""API v1 routes, collected from each app's api/urls.py."""

urlpatterns: list = []
