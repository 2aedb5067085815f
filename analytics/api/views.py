"""Statistics endpoints of the API: the same snapshot the websocket sends."""

from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import selectors


class EventMemberView(APIView):
    """Session-authenticated members of the event's organization; anyone else gets 404 (no existence leak)."""

    def get_event(self, request, slug):
        event = selectors.member_event(user=request.user, slug=slug)
        if event is None:
            raise NotFound("No such event.")
        return event


class EventStatsView(EventMemberView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Live statistics: overall, per gate, per hour, per method")
    def get(self, request, slug):
        return Response(selectors.stats_snapshot(event=self.get_event(request, slug)))


class RealtimeAnalyticsView(EventMemberView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Compact realtime attendance and gate status")
    def get(self, request, slug):
        return Response(selectors.realtime_summary(event=self.get_event(request, slug)))
