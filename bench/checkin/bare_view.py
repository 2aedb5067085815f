"""The benchmark's baseline: a bare Django JSON view (read the body, answer JSON), the framework's limit.

Routed only when GATEHOUSE_BENCH_VIEWS=1 (config/urls.py); never enabled in a deployment.
"""

import json

from django.db import connection, transaction
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

    `txid_current()` gives the transaction an id, so its COMMIT writes and flushes WAL like a
    check-in's does (with synchronous_commit on): the floor any durable write pays here.
    """
    body = json.loads(request.body or b"{}")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT txid_current()")
        cursor.fetchone()
    return JsonResponse({"ok": True, "keys": len(body)}, status=201)
