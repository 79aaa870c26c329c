"""Settings, read from environment variables (see README, "Configuration").

One module for every environment: production differs only by the variables it sets.
"""

import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The test suite runs with production settings, over plain HTTP and with a throwaway key
# (also when pytest is run directly, without `make test`'s TESTING=1).
TESTING = env_bool("TESTING", "pytest" in sys.modules)
# The development key only works with DEBUG on (or in the test suite). Production must set
# SECRET_KEY: left empty, Django refuses anything that signs (sessions, CSRF) and
# `check --deploy` reports it, while commands that sign nothing (migrate, makemigrations)
# still run.
SECRET_KEY = env_str("SECRET_KEY") or ("dev-only-insecure-key-change-me" if DEBUG or TESTING else "")
# Keys the verification fingerprint of signed letters (HMAC-SHA256): someone who can write the
# database cannot forge a letter's fingerprint without it. A key of its own, never SECRET_KEY
# (rotating that must not void every signed letter). Production must set it: left empty,
# signing and verifying letters fail and `check --deploy` reports it (documents.E002).
VERIFICATION_KEY_DEVELOPMENT = "dev-only-insecure-verification-key"
VERIFICATION_KEY = env_str("VERIFICATION_KEY") or (
    VERIFICATION_KEY_DEVELOPMENT if DEBUG or TESTING else ""
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "core",
    "suggestions",
    "consultations",
    "replies",
    "documents",
    "notifications",
    "publication",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "suggestions.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "suggestions.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the login page saying so.
    "axes.middleware.AxesMiddleware",
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
                "suggestions.context_processors.role",
                "notifications.context_processors.unread",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# A read replica (PostgreSQL streaming replication) for the report by unit and the ledger, the
# two reads that scan whole tables; everything else reads the primary. In tests it mirrors it.
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        env_str("DATABASE_REPLICA_URL"), conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    ) | {"TEST": {"MIRROR": "default"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _running_command() -> bool:
    """``manage.py <command>`` or ``django-admin <command>``, the development server aside."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
    is_manage = program.name in ("manage.py", "django-admin") or (
        program.name == "__main__.py" and program.parent.name == "django"
    )
    return is_manage and len(sys.argv) > 1 and sys.argv[1] != "runserver"


# PostgreSQL cancels a web request's statement that runs longer than this (milliseconds; 0: no
# limit), so that one slow query cannot hold a worker, and the requests queued behind it, for
# minutes. Management commands (migrate, seed_volume, export_replies, the task worker…) run
# long statements on purpose: they get DB_COMMAND_STATEMENT_TIMEOUT_MS instead (default none).
# Set when the connection opens (libpq "options"), so it costs nothing per request. Behind a
# pooler in transaction mode (PgBouncer), which refuses startup options, set both to 0 and give
# the web role its own: ALTER ROLE … SET statement_timeout = '15s'.
# JIT compilation is off on the same connections: past jit_above_cost (the figures' aggregate
# at 10^6 rows) it adds tens of milliseconds to a query that takes a few.
DB_STATEMENT_TIMEOUT_MS = (
    env_int("DB_COMMAND_STATEMENT_TIMEOUT_MS", 0) if _running_command()
    else env_int("DB_STATEMENT_TIMEOUT_MS", 15000)
)
for _database in DATABASES.values():  # the primary, and the read replica when there is one
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _options["options"] = " ".join(filter(None, [
            _options.get("options", ""), f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
            "-c jit=off",
        ]))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
}
if env_str("REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_str("REDIS_URL"),
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "todo"
LOGOUT_REDIRECT_URL = "login"

# Chinese first: English is the source language of the strings, Simplified Chinese the default.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# Uploads (scans, attachments, seals) live outside the static tree and are only served
# through permission-checked views; MEDIA_URL is deliberately not routed.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media-not-served/"
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
# A letter uploaded to /verify/ to be checked: hashed as it arrives, never stored.
VERIFY_UPLOAD_MAX_BYTES = env_int("VERIFY_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Security (production values come with DEBUG off) ---
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not TESTING)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    # Opt-in: includeSubDomains would force HTTPS on every other host of the bureau's domain
    # (many intranet services are plain HTTP), and preload lists are hard to leave.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    # Left off on purpose, so `check --deploy` need not warn about them.
    SILENCED_SYSTEM_CHECKS = [
        check for check, opted_in in (("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
                                      ("security.W021", SECURE_HSTS_PRELOAD))
        if not opted_in
    ]
    if env_bool("BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every asset is served from our own static tree (offline intranet), so the policy is strict.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
)

# Login throttling (django-axes): LOGIN_FAILURE_LIMIT failed logins for one username from one
# client address lock that pair out for LOGIN_FAILURE_WINDOW seconds after the last failure.
# The same user from another address, and other users from the same address (a whole bureau
# behind one proxy), can still log in. Failures are counted in the database, shared by every
# process.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 15 * 60)
# The reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For is
# believed: the client is the last address in it that is not one of them. Empty: the
# header is ignored and the client is REMOTE_ADDR.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo fails at start-up, not silently
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = "suggestions.auth.failure_limit"  # LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = "suggestions.auth.cool_off"  # LOGIN_FAILURE_WINDOW
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "suggestions.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "suggestions.auth.lockout_response"
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out neither count nor extend the lock-out.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False

# --- Domain rules that differ by place (DOMAIN.md gives the defaults) ---
REPLY_DUE_MONTHS = env_int("REPLY_DUE_MONTHS", 3)
REPLY_MAX_EXTENDED_MONTHS = env_int("REPLY_MAX_EXTENDED_MONTHS", 6)
RETURN_REQUEST_WORKING_DAYS = env_int("RETURN_REQUEST_WORKING_DAYS", 7)
CO_OPINION_DUE_MONTHS = env_int("CO_OPINION_DUE_MONTHS", 1)
REHANDLING_DUE_MONTHS = env_int("REHANDLING_DUE_MONTHS", 1)
# Whose 不满意 sends a suggestion back for re-handling, and whose rating the 满意率 counts:
# "lead" (the lead deputy's rating of the result) or "any" (the least satisfied deputy).
REHANDLING_TRIGGER = env_str("REHANDLING_TRIGGER", "lead")
# Which handling-result categories a place uses (A/B/C/D by default; some use A/B/C only).
HANDLING_CATEGORIES = env_list("HANDLING_CATEGORIES", "A,B,C,D")
# Publication (公开): sent replies that allow it appear on /public/ this many working days after
# sending (0: at once); personal contact details matching these patterns (one per line) never
# appear there.
PUBLISH_AFTER_WORKING_DAYS = env_int("PUBLISH_AFTER_WORKING_DAYS", 0)
REDACTION_PATTERNS = [
    pattern for pattern in env_str("REDACTION_PATTERNS", "").split("\n") if pattern
] or [
    r"(?<!\d)1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)",  # mobile numbers
    r"(?<![0-9Xx])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[0-9Xx](?![0-9Xx])",  # ID cards
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",  # e-mail addresses
]
# The report by unit ranks only units leading at least this many assigned suggestions.
REPORT_MIN_ITEMS = env_int("REPORT_MIN_ITEMS", 5)
# Public base URL printed in QR codes on signed letters (verification page).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000")

# --- PDF documents ---
# The font stacks are settings so a bureau can point them at its licensed 仿宋/小标宋.
PDF_FONT_BODY = env_str(
    "PDF_FONT_BODY", '"FangSong", "FangSong_GB2312", "Noto Serif CJK SC", "Noto Sans CJK SC"'
)
PDF_FONT_TITLE = env_str(
    "PDF_FONT_TITLE", '"FZXiaoBiaoSong-B05S", "方正小标宋简体", "Noto Serif CJK SC"'
)
PDF_FONT_HEI = env_str("PDF_FONT_HEI", '"SimHei", "Noto Sans CJK SC"')
PDF_FONT_KAI = env_str("PDF_FONT_KAI", '"KaiTi", "LXGW WenKai", "AR PL UKai CN", "Noto Serif CJK SC"')
# Any character the faces above lack (rare characters in names) falls back to these.
PDF_FONT_FALLBACK = env_str(
    "PDF_FONT_FALLBACK", '"Noto Serif CJK SC", "Noto Sans CJK SC", "HanaMinA", "HanaMinB"'
)
# Where fonts prepared for fast rendering are kept (default: ~/.cache/deputy-suggestions).
PDF_FONT_CACHE_DIR = env_str("PDF_FONT_CACHE_DIR", "")
CONSULTATION_RECORD_TITLE = env_str("CONSULTATION_RECORD_TITLE", "晋城市人大代表建议面商记录表")
# Signed letters are stored at sign-off as this archival variant (weasyprint.pdf.VARIANTS;
# empty: plain PDF), and, when a certificate is set, digitally signed (PAdES baseline B) with
# the unit's certificate and key (PEM or DER files; the key's passphrase, if any; CA
# certificates to embed, comma-separated). Unset: stored without a digital signature.
PDF_ARCHIVE_VARIANT = env_str("PDF_ARCHIVE_VARIANT", "pdf/a-3b")
PDF_SIGNING_CERT = env_str("PDF_SIGNING_CERT")
PDF_SIGNING_KEY = env_str("PDF_SIGNING_KEY")
PDF_SIGNING_KEY_PASSPHRASE = env_str("PDF_SIGNING_KEY_PASSPHRASE")
PDF_SIGNING_CA_CHAIN = env_list("PDF_SIGNING_CA_CHAIN")

TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}
CSRF_FAILURE_VIEW = "suggestions.views.csrf_failure"

# --- Notifications: e-mail (Django's e-mail settings), SMS, reminders ---
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)  # a hung mail server must not hold a worker
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent_mail"))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "suggestions@localhost")
# A backend class with send(phone, text): notifications.sms.NullBackend (none),
# .ConsoleBackend (logs), .FileBackend (appends to SMS_FILE_PATH), or a bureau's gateway.
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.sms.NullBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "sent_sms.log"))
# send_reminders: replies and co-handling opinions due within this many working days.
REMINDER_DAYS_BEFORE = env_int("REMINDER_DAYS_BEFORE", 5)
# Seconds before each retry of a failed e-mail/SMS; after the last, it is marked failed.
NOTIFICATION_RETRY_DELAYS = [int(s) for s in env_list("NOTIFICATION_RETRY_DELAYS", "60,300,1800,7200")]
EXPORT_ROOT = Path(env_str("EXPORT_ROOT", str(BASE_DIR / "exports")))

# --- File storage: uploads (attachments, seals) in "default", export zips in "exports" ---
# filesystem (default): MEDIA_ROOT and EXPORT_ROOT on this machine's disk. s3: a bucket of an
# S3-compatible store (AWS, MinIO, Ceph, a cloud's OSS) shared by every machine; needs the
# `s3` extra (django-storages with boto3). Files are private: every download goes through a
# permission-checked view, never a bucket URL.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "s3":
    def _s3(location: str) -> dict:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
                "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
                "region_name": env_str("AWS_S3_REGION_NAME") or None,
                "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
                "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
                "location": location,
                "default_acl": "private",
                # As on disk: a second upload of the same name gets a new name, never replaces.
                "file_overwrite": False,
            },
        }

    STORAGES = {"default": _s3(env_str("AWS_MEDIA_LOCATION", "media")),
                "exports": _s3(env_str("AWS_EXPORTS_LOCATION", "exports"))}
elif STORAGE_BACKEND == "filesystem":
    STORAGES = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "exports": {"BACKEND": "documents.storage.ExportStorage"}}
else:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}.")
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes logs every login at INFO; failed logins and lock-outs are WARNINGs.
    "loggers": {"axes": {"level": "WARNING"}},
}
