"""Public ticket URLs (signed, no login)."""

from django.urls import re_path

from participants import ticket_views

urlpatterns = [
    re_path(r"^(?P<signed>[A-Za-z0-9_\-:]{10,200})/qr\.(?P<kind>png|svg)$", ticket_views.ticket_qr, name="ticket-qr"),
]
