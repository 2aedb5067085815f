"""Public ticket URLs (signed, no login), included from config/urls.py at /tickets/."""

from django.urls import re_path

from participants.tickets import views

urlpatterns = [
    re_path(r"^(?P<signed>[A-Za-z0-9_\-:]{10,200})/qr\.(?P<kind>png|svg)$", views.qr_image, name="ticket-qr"),
]
