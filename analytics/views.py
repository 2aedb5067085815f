"""Where people start (`/`), the index of dashboards, the staff dashboard page and its one write (resolving an alert)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics import selectors, services
from events.errors import DomainError
from events.local_time import event_local_time


def _event_or_404(request, slug):
    event = selectors.member_event(user=request.user, slug=slug)
    if event is None:
        raise Http404("No such event.")
    return event


def _listed(events) -> list[dict]:
    return [
        {
            "event": event,
            "starts": event_local_time(event.starts_at, event),
            "url": reverse("analytics:dashboard", args=[event.slug]),
        }
        for event in events
    ]


def home(request):
    """`/`: a sign-in link for visitors; the admin, the user's dashboards and the API docs for members."""
    return render(request, "home.html", {"events": _listed(selectors.watchable_events(user=request.user))})


@login_required
def dashboard_index(request):
    return render(request, "analytics/index.html", {"events": _listed(selectors.watchable_events(user=request.user))})


@login_required
def dashboard(request, slug):
    event = _event_or_404(request, slug)
    config = {
        "wsPath": f"/ws/events/{event.slug}/stats/",
        # The page swaps the trailing 0 for the alert's id.
        "resolveUrl": reverse("analytics:resolve-alert", kwargs={"slug": event.slug, "alert_id": 0}),
    }
    return render(
        request, "analytics/dashboard.html", {"event": event, "snapshot": selectors.stats_snapshot(event=event), "config": config}
    )


@login_required
@require_POST
def resolve_alert(request, slug, alert_id):
    event = _event_or_404(request, slug)
    try:
        services.resolve_alert(alert_id=alert_id, event=event, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("analytics:dashboard", slug=event.slug)
