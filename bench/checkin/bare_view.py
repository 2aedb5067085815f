"""The benchmark's baseline: a bare Django JSON view (read the body, answer JSON), the framework's limit.

Routed only by bench/checkin/urls.py (bench.settings); a deployment's URL map never imports it.
"""

import json

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def bare_json(request):
    body = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "keys": len(body)}, status=201)


@csrf_exempt
@require_POST
def one_round_trip_commit(request):
    """A second baseline: the bare view plus one database round trip and a durable commit.

    A transactional logical message writes a WAL record, so the commit must flush WAL (with
    synchronous_commit on) as a check-in's does: the floor any durable write pays here. (An
    earlier version called txid_current(), whose commit writes no WAL before the commit
    record and so is not flushed synchronously: it measured a round trip, not a durable write.)
    """
    body = json.loads(request.body or b"{}")
    with connection.cursor() as cursor:  # autocommit: the statement is the transaction, as a check-in's
        cursor.execute("SELECT pg_logical_emit_message(true, 'gatehouse-bench', '')")
        cursor.fetchone()
    return JsonResponse({"ok": True, "keys": len(body)}, status=201)
