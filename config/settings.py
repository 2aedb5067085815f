"""Gatehouse settings: one module, configured only from the environment (12-factor).

With no environment at all the embedded defaults apply (SQLite, in-process cache, channel
layer and tasks); DATABASE_URL and REDIS_URL switch to the real services; DJANGO_ENV=production
turns on the settings that `manage.py check --deploy` asks for.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django_guid.integrations import CeleryIntegration

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
IS_PRODUCTION = DJANGO_ENV == "production"

DEBUG = env.bool("DEBUG", default=not IS_PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if IS_PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_ENV=production")
    # Development only: a fixed key keeps sessions alive across `make run` restarts.
    SECRET_KEY = "dev-only-not-secret-gatehouse-key-0123456789abcdefghijklmnop"  # noqa: S105
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if IS_PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # First, so that its runserver (daphne's, plus the embedded mode's needs) is the one run.
    "config",
    "daphne",
    "config.apps.GatehouseAdminConfig",  # django.contrib.admin with our site (config/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "import_export",
    "django_guid",
    "django_prometheus",
    "events",
    "gates",
    "participants",
    "attendance",
    "analytics",
    "integrations",
]

MIDDLEWARE = [
    # Request id first, so every later log line carries it; metrics wrap everything else.
    "django_guid.middleware.guid_middleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Postgres allows 100 connections here: every process shares a small psycopg pool
    # instead of holding one connection per thread.
    if env.bool("DATABASE_POOL", default=True):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # Server-side prepared statements for the statements the hot paths send through
    # psycopg's own cursor (check-in, batch, outbox); Django's ORM binds client-side and is
    # not affected. Planning the check-in's statements every time doubled its latency
    # (bench/checkin). Set DATABASE_PREPARE_THRESHOLD="" behind a transaction-mode pgbouncer
    # older than 1.21, which cannot keep prepared statements.
    prepare_threshold = env.str("DATABASE_PREPARE_THRESHOLD", default="5")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(prepare_threshold) if prepare_threshold else None
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and IMMEDIATE transactions let the threaded dev server write without
    # "database is locked" errors.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery, Channels -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 defaults socket_timeout to 5 s, the same as channels-redis' 5 s BZPOPMIN:
                # an idle consumer's read then times out and the socket closes (1011). Give it room.
                "hosts": [{"address": url, "socket_timeout": 15} for url in env.list("CHANNEL_REDIS_URLS", default=[REDIS_URL])],
                # Consumers re-join their group on every periodic refresh (analytics.consumers), so
                # channels of dead processes leave groups within minutes instead of a day.
                "group_expiry": 300,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gatehouse"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A task killed mid-run must come back: acknowledge after the work, re-queue on worker loss.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict = {
    # The relay is kicked after every commit; this sweep catches whatever a lost kick left.
    "relay-outbox": {"task": "integrations.relay_outbox", "schedule": env.float("OUTBOX_SWEEP_SECONDS", default=5.0)},
    # Webhook retries wait in the database (next_attempt_at), never in Celery countdowns.
    "deliver-webhooks": {"task": "integrations.deliver_webhooks", "schedule": env.float("WEBHOOK_SWEEP_SECONDS", default=5.0)},
    "prune-outbox": {"task": "integrations.prune_outbox", "schedule": 3600.0},
    "analytics-check-alerts": {"task": "analytics.check_alerts", "schedule": 30.0},
    # Backstop: what a failed post-commit step left pending, and anything else no outbox row brought.
    "analytics-count-uncounted-scans": {"task": "analytics.count_uncounted_scans", "schedule": 15.0},
}
# Relayed domain events and their webhook delivery log are kept this long.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
# Called in order, inside the relay's transaction, for every outbox row (see integrations.relay).
OUTBOX_SINKS: list[str] = ["analytics.sinks.apply_outbox_event", "integrations.webhooks.sink"]
# Off only in tests that drive the relay (and the webhook sender) by hand.
OUTBOX_KICK = env.bool("OUTBOX_KICK", default=True)
# Separate queues let several deployments (or test runs) share one Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE["participants.send_due_welcome_emails"] = {
    "task": "participants.send_due_welcome_emails",
    "schedule": env.float("TICKET_EMAIL_SWEEP_SECONDS", default=60.0),
}

# --- Webhooks (integrations.webhooks) ------------------------------------------------------
# Seconds to wait after each failed attempt; when the list is used up the delivery has failed.
# Default (Standard Webhooks practice): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h — 8 attempts over ~27 h.
WEBHOOK_RETRY_SCHEDULE_SECONDS = env.list(
    "WEBHOOK_RETRY_SCHEDULE_SECONDS", cast=float, default=[5, 300, 1800, 7200, 18000, 36000, 36000]
)
# An endpoint that has failed without a single success for this long is disabled and its owners emailed.
WEBHOOK_DISABLE_AFTER_SECONDS = env.float("WEBHOOK_DISABLE_AFTER_SECONDS", default=24 * 3600)
WEBHOOK_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOK_CONNECT_TIMEOUT_SECONDS", default=3.0)
WEBHOOK_READ_TIMEOUT_SECONDS = env.float("WEBHOOK_READ_TIMEOUT_SECONDS", default=10.0)
# SSRF guard: destinations resolving to private, loopback, link-local or reserved addresses are
# refused unless this is explicitly on (tests and local development with a receiver on localhost).
WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS = env.bool("WEBHOOKS_ALLOW_PRIVATE_DESTINATIONS", default=False)

# --- Metrics and request ids ------------------------------------------------------------
# /metrics answers only `Authorization: Bearer <METRICS_TOKEN>` when set; without a token it is
# open in development and closed (403) in production.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "IGNORE_URLS": ["healthz", "readyz", "metrics"],
    # The request id travels to the Celery tasks a request queues; workers log through LOGGING too.
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}

# --- Participant import ---------------------------------------------------------------
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=50 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=500_000)
# XLSX is a zip: refuse archives that would inflate past this, or any member inflating more than the ratio.
IMPORT_MAX_UNCOMPRESSED_BYTES = env.int("IMPORT_MAX_UNCOMPRESSED_BYTES", default=1024 * 1024 * 1024)
IMPORT_MAX_COMPRESSION_RATIO = env.int("IMPORT_MAX_COMPRESSION_RATIO", default=200)
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=2000)
IMPORT_STALE_AFTER_SECONDS = env.int("IMPORT_STALE_AFTER_SECONDS", default=120)
# Imports may run on their own queue (and workers) so a 500k-row file never delays emails or webhooks.
IMPORT_TASK_QUEUE = env.str("IMPORT_TASK_QUEUE", default="") or None
CELERY_BEAT_SCHEDULE["participants.sweep_stale_import_jobs"] = {
    "task": "participants.tasks.sweep_stale_import_jobs",
    "schedule": 60.0,
}

# --- Live statistics ------------------------------------------------------------------
# The dashboard websocket sends at most one snapshot per interval while scans arrive.
STATS_PUSH_INTERVAL_SECONDS = env.float("STATS_PUSH_INTERVAL_SECONDS", default=0.25)
STATS_REFRESH_SECONDS = env.float("STATS_REFRESH_SECONDS", default=15.0)
# The backstop sweep counts an accepted scan that no outbox delivery counted once it is this old.
ANALYTICS_SWEEP_GRACE_SECONDS = env.int("ANALYTICS_SWEEP_GRACE_SECONDS", default=10)
# Refusals are stored without an outbox row: a sweep counts them this often (beat in real mode,
# a thread of `manage.py runserver` in the embedded mode; see analytics.sweeper).
ANALYTICS_REFUSAL_SWEEP_SECONDS = env.float("ANALYTICS_REFUSAL_SWEEP_SECONDS", default=3.0)
CELERY_BEAT_SCHEDULE["analytics-count-refusals"] = {
    "task": "analytics.count_refusals",
    "schedule": ANALYTICS_REFUSAL_SWEEP_SECONDS,
}
# An alert for the same gate (or event) is not raised again within this time.
ALERT_COOLDOWN_SECONDS = env.int("ALERT_COOLDOWN_SECONDS", default=600)

# --- Email ----------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Gatehouse <tickets@gatehouse.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# A worker thread keeps its SMTP session open this long (servers drop idle ones after ~5 min).
EMAIL_CONNECTION_REUSE_SECONDS = env.int("EMAIL_CONNECTION_REUSE_SECONDS", default=60)
# Absolute links in emails (QR page, import report) start with this.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- Tickets: welcome emails ----------------------------------------------------------------
# Welcome emails per second per worker process (Celery rate syntax: "10/s", "600/m"; "" for none).
TICKET_EMAIL_RATE_LIMIT = env.str("TICKET_EMAIL_RATE_LIMIT", default="10/s")
# Transient failures (4xx, connection errors) are retried after these delays: 3 retries in 24 h.
TICKET_EMAIL_RETRY_DELAYS_SECONDS = [
    int(s) for s in env.list("TICKET_EMAIL_RETRY_DELAYS_SECONDS", default=["300", "3600", "21600"])
]
TICKET_EMAIL_SEND_LEASE_SECONDS = env.int("TICKET_EMAIL_SEND_LEASE_SECONDS", default=600)
TICKET_EMAIL_QUEUE_LEASE_SECONDS = env.int("TICKET_EMAIL_QUEUE_LEASE_SECONDS", default=3600)
TICKET_EMAIL_SWEEP_BATCH = env.int("TICKET_EMAIL_SWEEP_BATCH", default=2000)
TICKET_RESEND_GUARD_SECONDS = env.int("TICKET_RESEND_GUARD_SECONDS", default=600)
# QR mask pattern 0-7, or "auto" for segno's penalty search (5x slower; see docs/tickets.md).
TICKET_QR_MASK = env.str("TICKET_QR_MASK", default="0")
TICKET_QR_CACHE_SECONDS = env.int("TICKET_QR_CACHE_SECONDS", default=7 * 24 * 3600)
# Shared secret of the bounce endpoint (Authorization: Bearer …); unset, the endpoint refuses all.
EMAIL_BOUNCE_SECRET = env.str("EMAIL_BOUNCE_SECRET", default="")

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": env.str("DEFAULT_FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage")},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if IS_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# django-storages (S3 and friends) reads its own AWS_* / GS_* settings from the environment.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default=None)
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True

# --- Auth, i18n -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ko", "Korean")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "events.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gatehouse API",
    "DESCRIPTION": "Event check-in: gate devices, participants, live statistics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI is served from our static files: the machines have no CDN access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Names for choice sets that share a field name (method, code, result) across the gate API.
    "ENUM_NAME_OVERRIDES": {
        "ScanMethodEnum": "attendance.models.Scan.Method",
        "ScanMethodInputEnum": "attendance.api.serializers.METHOD_INPUT_CHOICES",
        "ErrorCodeEnum": "attendance.api.serializers.ERROR_CODE_CHOICES",
        "DuplicateCodeEnum": "attendance.api.serializers.DUPLICATE_CODE_CHOICES",
        "AcceptedResultEnum": [("accepted", "Accepted")],
        "RefusedResultEnum": "attendance.api.serializers.REFUSED_RESULT_CHOICES",
    },
}
# Device API keys are checked with a keyed hash (HMAC-SHA256), not a password hasher.
API_KEY_HASH_SECRET = env.str("API_KEY_HASH_SECRET", default=SECRET_KEY)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
# How long a web process trusts a device key it has checked (revocation delay; no Redis on check-in).
GATE_DEVICE_CACHE_SECONDS = env.float("GATE_DEVICE_CACHE_SECONDS", default=5.0)
# Single check-ins commit durably (WAL flushed) unless this is false: see README "Check-in".
CHECKIN_SYNCHRONOUS_COMMIT = env.bool("CHECKIN_SYNCHRONOUS_COMMIT", default=True)

# --- Logging --------------------------------------------------------------------------
# Every line carries the request id (django-guid, passed on to Celery tasks) and goes through
# config.logs.ScrubPersonalData, which masks emails, phone numbers and ticket tokens.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
        "scrub_personal_data": {"()": "config.logs.ScrubPersonalData"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # On the handler too: Django's own loggers (django.request warns of every 4xx) keep
            # their INFO level and propagate here, past the root logger's level.
            "level": LOG_LEVEL,
            "formatter": "json" if IS_PRODUCTION else "plain",
            "filters": ["request_id", "scrub_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # django-guid says at INFO every time it sets an id.
    "loggers": {"django_guid": {"level": "WARNING"}},
}

# --- Production hardening (what `check --deploy` asks for) ------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if IS_PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes come over plain HTTP from inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
