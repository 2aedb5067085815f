"""The benchmark's baseline: a bare Django JSON view (read the body, answer JSON), the framework's limit.

Routed only when GATEHOUSE_BENCH_VIEWS=1 (config/urls.py); never enabled in a deployment.
"""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


@csrf_exempt
@require_POST
def bare_json(request):
    body = json.loads(request.body or b"{}")
    return JsonResponse({"ok": True, "keys": len(body)}, status=201)
