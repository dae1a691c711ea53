"""WedSync Ops settings: one module, every value from the environment.

Values are parsed strictly (``DEBUG=yes`` is an error, not ``False``), and
every secret can also be given as a file path in ``<NAME>_FILE``
(django-environ's ``FileAwareEnv``). ``.env.example`` lists the variables.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean strictly: ``true``/``false``/``1``/``0`` only.

    Raises ImproperlyConfigured for anything else, so a typo such as
    ``DEBUG=yes`` stops the process instead of silently meaning False.
    """
    raw = env.str(name, default=None)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: use true, false, 1 or 0")


DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-change-me")
# Required unless DEBUG: scripts/prepare.sh gives each checkout its own key (in .env).
REQUIRE_SECRET_KEY = env_bool("REQUIRE_SECRET_KEY", not DEBUG)
if REQUIRE_SECRET_KEY and (SECRET_KEY.startswith("dev-only") or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to 50+ random characters unless DEBUG=true (scripts/prepare.sh writes one to .env;"
        " production: python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )
# FIELD_ENCRYPTION_KEYS too (the keys of channel configurations and provider credentials): required unless DEBUG.
if REQUIRE_SECRET_KEY and not [k for k in env.list("FIELD_ENCRYPTION_KEYS", default=[]) if k.strip()]:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set unless DEBUG=true (scripts/prepare.sh writes one to .env; production:"
        " python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Before the admin: its object-tools template adds the History links to every tracked model's form.
    "pghistory.admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_structlog",
    "pgtrigger",
    "pghistory",
    "wedsync_ops.tenancy",
    "notifications",
    "apm",
    "alerts",
    "incidents",
    "dbmonitor",
    "heartbeats",
    "oncall",
    "business",
    "wedsync_ops.pages",
    "audit",
    "status",
    "demo",
]

MIDDLEWARE = [
    # /health/live and /health/ready for load balancers: answered first, before host checks and HTTPS redirects.
    "wedsync_ops.health.HealthMiddleware",
    # The portal watches itself: request timings as Prometheus metrics and sampled apm_metrics.
    "apm.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # One JSON log line per request with request_id and user_id (wedsync_ops.logconfig).
    "django_structlog.middlewares.RequestMiddleware",
    # NUL characters in query strings and form fields answer 400 naming the field (wedsync_ops/middleware.py).
    "wedsync_ops.middleware.TextInputMiddleware",
    # Opens the request's transaction and sets app.role/app.org_id in it.
    "wedsync_ops.tenancy.middleware.TenantContextMiddleware",
    # The audit trail's context (user, url; API keys and integrations add theirs): audit/middleware.py.
    "audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "wedsync_ops.urls"
WSGI_APPLICATION = "wedsync_ops.wsgi.application"
ASGI_APPLICATION = "wedsync_ops.asgi.application"

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

# --- Database -------------------------------------------------------------
# The web server and workers connect as the application role (NOSUPERUSER,
# NOBYPASSRLS, owns nothing). Migrations run as the owner role: set
# WEDSYNC_DB_ROLE=owner (the Makefile does) to connect with DATABASE_OWNER_URL.
DB_ROLE = env.str("WEDSYNC_DB_ROLE", default="app")
if DB_ROLE not in ("app", "owner"):
    raise ImproperlyConfigured(f"WEDSYNC_DB_ROLE={DB_ROLE!r}: use app or owner")
_APP_URL = "postgres://wedsync_app:wedsync_app@127.0.0.1:5432/wedsync"
_OWNER_URL = "postgres://wedsync_owner:wedsync_owner@127.0.0.1:5432/wedsync"
DATABASE_APP = env.db("DATABASE_URL", default=_APP_URL)
DATABASE_OWNER = env.db("DATABASE_OWNER_URL", default=_OWNER_URL)
DATABASES = {"default": dict(DATABASE_OWNER if DB_ROLE == "owner" else DATABASE_APP)}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("application_name", "wedsync-ops")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction pooling mode (docs/deploy.md): no server-side cursors (they would outlive
# the transaction's server connection) and no prepared statements (PgBouncer < 1.21 cannot route them;
# Django's default for psycopg 3, made explicit here).
DATABASE_TRANSACTION_POOLING = env_bool("DATABASE_TRANSACTION_POOLING", False)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASE_TRANSACTION_POOLING
DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", None)
# The name of the application role, granted privileges after each migrate.
DB_APP_ROLE = DATABASE_APP["USER"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, Celery ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
# Publishing must fail fast when Redis is down: the outbox row is already
# committed and the beat sweep delivers it once Redis is back.
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_IMPORTS = ["notifications.tasks"]
CELERY_BEAT_SCHEDULE = {}
for _app in ("notifications", "apm", "alerts", "incidents", "dbmonitor", "business"):
    CELERY_BEAT_SCHEDULE.update(__import__(f"{_app}.beat", fromlist=["BEAT_SCHEDULE"]).BEAT_SCHEDULE)
# heartbeats: check evaluation, the external ping, retention. Every entry's runs are recorded (heartbeats.jobs).
CELERY_BEAT_SCHEDULE.update(__import__("heartbeats.beat", fromlist=["BEAT_SCHEDULE"]).BEAT_SCHEDULE)

# --- Celery queues, limits, one beat (wedsync_ops/queues.py, docs/deploy.md) ----------------
from wedsync_ops import queues as _queues  # noqa: E402  (plain Python, no Django)

CELERY_TASK_DEFAULT_QUEUE = _queues.DEFAULT_QUEUE
CELERY_TASK_ROUTES = ("wedsync_ops.queues.route_task",)
CELERY_TASK_ANNOTATIONS = ("wedsync_ops.queues.TaskLimits",)
CELERY_BEAT_SCHEDULE = _queues.with_expiry(CELERY_BEAT_SCHEDULE)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # workers log through LOGGING (JSON lines)
DJANGO_STRUCTLOG_CELERY_ENABLED = True  # task_id in every line a task logs
# Beat keeps its schedule in Redis (celery-redbeat) and holds a lock there while it runs: a second beat
# started by mistake (or as a standby on another host) waits for the lock instead of doubling every job,
# and takes over within REDBEAT_LOCK_TIMEOUT_S after the active one dies.
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = env.str("REDBEAT_REDIS_URL", default="") or REDIS_URL
CELERY_REDBEAT_KEY_PREFIX = env.str("REDBEAT_KEY_PREFIX", default="wedsync-ops:beat:")
CELERY_REDBEAT_LOCK_TIMEOUT = env.int("REDBEAT_LOCK_TIMEOUT_S", default=60)
CELERY_BEAT_MAX_LOOP_INTERVAL = env.int("BEAT_MAX_LOOP_INTERVAL_S", default=10)
CELERY_REDBEAT_REDIS_OPTIONS = {"socket_timeout": 5, "socket_connect_timeout": 5, "retry_period": 30}

# --- Auth, pages ------------------------------------------------------------
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "wedsync_ops.tenancy.auth.TenantTokenAuthentication",
        "wedsync_ops.tenancy.auth.TenantBearerTokenAuthentication",
        "wedsync_ops.tenancy.auth.TenantSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "wedsync_ops.api.BoundedLimitOffsetPagination",
    # Bodies decoded by wedsync_ops.validation (depth limit, no NUL or lone surrogates): 400, never 500.
    "DEFAULT_PARSER_CLASSES": [
        "wedsync_ops.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "wedsync_ops.api.exception_handler",
}
# People's API tokens (django-rest-knox): stored as SHA-512 digests, shown once, sent as
# "Authorization: Token <token>" (or "Bearer <token>"), valid API_TOKEN_TTL_DAYS days; revoked on
# /accounts/tokens/ or in the admin.
REST_KNOX = {
    "TOKEN_TTL": __import__("datetime").timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=90)),
    "TOKEN_PREFIX": "wsu_",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "WedSync Ops API",
    "DESCRIPTION": "Ingest, inbound alert integrations and the operations portal's data.",
    "VERSION": "1.0.0",
    # Two different choice sets are both called "priority": name each.
    "ENUM_NAME_OVERRIDES": {
        "AlertPriorityEnum": "wedsync_ops.choices.AlertPriority",
        "IncidentPriorityEnum": "incidents.models.Incident.Priority",
        # Alerts (issue 14 §7) have a status and a source of their own, besides incidents'.
        "AlertStatusEnum": "alerts.models.AlertHistory.Status",
        "AlertSourceEnum": "alerts.models.AlertHistory.Source",
        "IncidentStatusEnum": "wedsync_ops.choices.IncidentStatus",
        "IncidentSourceEnum": "incidents.models.Incident.Source",
    },
}

# The portal's own address, for links in notifications.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Largest request body the ingest and integration endpoints accept (bytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
INTEGRATION_MAX_BODY_BYTES = env.int("INTEGRATION_MAX_BODY_BYTES", default=1024 * 1024)
METRICS_MAX_BATCH = env.int("METRICS_MAX_BATCH", default=10_000)
# Business events per POST /api/v1/business-events/ (the whole batch is validated before anything is stored).
BUSINESS_EVENTS_MAX_BATCH = env.int("BUSINESS_EVENTS_MAX_BATCH", default=5_000)
# Outbound notification HTTP timeout (s) and delivery retry policy.
NOTIFY_HTTP_TIMEOUT_S = env.float("NOTIFY_HTTP_TIMEOUT_S", default=10.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=6)
NOTIFY_BACKOFF_BASE_S = env.float("NOTIFY_BACKOFF_BASE_S", default=30.0)

# One JSON object per line on stdout, secrets masked (wedsync_ops/logconfig.py).
from wedsync_ops.logconfig import logging_config  # noqa: E402

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"), fmt=env.str("LOG_FORMAT", default="json"))

# --- Email (the email channel) ------------------------------------------------------------
# EMAIL_URL: smtp://user:password@host:587/?tls=True (STARTTLS), smtps://…:465 (TLS), consolemail:// (print),
# parsed by django-environ; EMAIL_TIMEOUT (s) bounds every SMTP conversation so a dead relay cannot hold a worker.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://localhost:25")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="WedSync Ops <ops@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Behind an HTTPS proxy (production: .env.example, docs/deploy.md) --------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Prometheus scrapes each web node directly (its workers' sum): not redirected to HTTPS.
SECURE_REDIRECT_EXEMPT = [r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# "HTTP_X_FORWARDED_PROTO,https": the proxy sets X-Forwarded-Proto (and strips a client's own).
_PROXY_SSL_HEADER = env.list("SECURE_PROXY_SSL_HEADER", default=[])
if _PROXY_SSL_HEADER and len(_PROXY_SSL_HEADER) != 2:
    raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER: the header and its value, e.g. HTTP_X_FORWARDED_PROTO,https")
SECURE_PROXY_SSL_HEADER = tuple(_PROXY_SSL_HEADER) or None

# --- Health endpoints (wedsync_ops/health.py) -------------------------------------------------
# /health/ready answers 503 when a check named here fails; the others are reported ("degraded", 200) without
# taking a web node out of the load balancer (a dead beat or Redis should not empty the pool: the web keeps
# taking alerts). The beat-liveness check reads job runs from HEALTH_BEAT_RUNS_SOURCE: the heartbeats app's
# job_runs (as executed), or wedsync_ops.health.redbeat_job_runs (as beat sent them, and beat's lock).
HEALTH_READY_REQUIRED = env.list("HEALTH_READY_REQUIRED", default=["database"])
HEALTH_BEAT_RUNS_SOURCE = env.str("HEALTH_BEAT_RUNS_SOURCE", default="wedsync_ops.health.heartbeat_job_runs")

# --- Paging people (on-call): Twilio SMS and voice, Slack direct messages (email: EMAIL_URL above) --------
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
SLACK_BOT_TOKEN = env.str("SLACK_BOT_TOKEN", default="")
SLACK_SIGNING_SECRET = env.str("SLACK_SIGNING_SECRET", default="")

# Keys of every secret kept at rest (wedsync_ops/crypto.py: provider credentials, channel configurations):
# Fernet keys, newest first; `manage.py reencrypt_credentials` moves every secret to the first.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])

# --- Outbound requests (wedsync_ops/outbound.py) ---------------------------------
# Networks that are not public but may be reached all the same, as CIDRs: staff-configured targets
# (platform channels, provider polling, health checks: e.g. a private Prometheus at 10.0.4.0/24), and
# targets vendors typed (empty in a multi-tenant production: tests and a one-machine demo list loopback).
OUTBOUND_ALLOW_PRIVATE_NETWORKS = env.list("OUTBOUND_ALLOW_PRIVATE_NETWORKS", default=[])
OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS = env.list("OUTBOUND_VENDOR_ALLOW_PRIVATE_NETWORKS", default=[])
# The most of a response body any outbound request reads (bytes).
OUTBOUND_MAX_RESPONSE_BYTES = env.int("OUTBOUND_MAX_RESPONSE_BYTES", default=1024 * 1024)

# --- Security (issue 13) ------------------------------------------------------------------
# Login throttling (django-axes) on /accounts/login/ and /admin/login/: LOGIN_FAILURE_LIMIT failed
# logins of one user name from one address lock that pair out for LOGIN_LOCKOUT_MINUTES (a correct
# password is refused too); staff unlock in the admin (Axes → Access attempts: delete the row).
INSTALLED_APPS.append("axes")
MIDDLEWARE.append("axes.middleware.AxesMiddleware")
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = __import__("datetime").timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind reverse proxies: how many (the client address is then read from X-Forwarded-For; default REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "wedsync_ops.middleware.client_ip"

# Content-Security-Policy (django-csp): scripts, styles and images from the portal itself only; no inline
# script or style anywhere (the templates keep theirs in static/), no framing, forms post back here.
MIDDLEWARE.append("csp.middleware.CSPMiddleware")
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True

# /api/schema/ (the OpenAPI document) needs a login unless API_SCHEMA_PUBLIC (default: DEBUG only).
API_SCHEMA_PUBLIC = env_bool("API_SCHEMA_PUBLIC", default=DEBUG)
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "wedsync_ops.api.document_error_responses",
]
SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"] = [
    "rest_framework.permissions.AllowAny" if API_SCHEMA_PUBLIC else "rest_framework.permissions.IsAuthenticated"
]

# --- Audit trail (issue 14 §6: django-pghistory, audit/models.py) -----------------------------
# The context (who, from where) is stored in each event row (JSON), so it falls under the event
# table's row-level security; event tables are append-only (triggers refuse UPDATE and DELETE).
import pghistory as _pghistory  # noqa: E402

PGHISTORY_CONTEXT_FIELD = _pghistory.ContextJSONField()
PGHISTORY_APPEND_ONLY = True
# Reads write nothing worth recording: only writing methods carry the context into their SQL.
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PGHISTORY_ADMIN_MODEL = "pghistory.MiddlewareEvents"

# --- Cache (the public status pages: one set of queries per organization a minute) -------------
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env.str("CACHE_REDIS_URL", default="") or REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="wedsync"),
        "TIMEOUT": 300,
    }
}
# How long a status page's data is served from the cache (s).
STATUS_PAGE_CACHE_SECONDS = env.int("STATUS_PAGE_CACHE_SECONDS", default=60)

# --- API docs (issue 14 §7): Swagger UI and Redoc served from drf-spectacular-sidecar's files ---
SPECTACULAR_SETTINGS.update(
    {
        "SWAGGER_UI_DIST": "SIDECAR",
        "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        "REDOC_DIST": "SIDECAR",
    }
)
