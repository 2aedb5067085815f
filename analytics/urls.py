from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_index, name="index"),
    path("events/<slug:slug>/", views.dashboard, name="dashboard"),
    path("events/<slug:slug>/alerts/<int:alert_id>/resolve/", views.resolve_alert, name="resolve-alert"),
]
