"""Kehu settings, read from environment variables (see docs/configuration.md)."""

import contextlib
import json
import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("KEHU_VAR_DIR", Path.cwd() / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KEHU_DEBUG", False)
SECRET_KEY = os.environ.get("KEHU_SECRET_KEY", "")
if not SECRET_KEY:
    # A development key is derived per install so that a bare `make run` works;
    # production sets KEHU_SECRET_KEY explicitly.
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        SECRET_KEY = key_file.read_text().strip()
    else:
        import secrets

        SECRET_KEY = secrets.token_urlsafe(50)
        try:
            VAR_DIR.mkdir(parents=True, exist_ok=True)
            key_file.write_text(SECRET_KEY)
        except OSError:
            pass

ALLOWED_HOSTS = [h.strip() for h in os.environ.get("KEHU_ALLOWED_HOSTS", "*").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KEHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "kehu.core",
    "kehu.accounts",
    "kehu.customers",
    "kehu.sales",
    "kehu.engagement",
    "kehu.service",
    "kehu.loyalty",
    "kehu.segments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.accounts.middleware.UserLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.accounts.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "kehu.urls"
WSGI_APPLICATION = "kehu.wsgi.application"
ASGI_APPLICATION = "kehu.asgi.application"

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
                "django.template.context_processors.i18n",
                "kehu.engagement.context_processors.follow_ups",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("KEHU_DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers work while a writer commits; IMMEDIATE avoids
        # "database is locked" upgrades inside write transactions.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            "PRAGMA cache_size=-200000; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KEHU_TEST_SQLITE_NAME") or None}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Kehu's working set lives in memory or on SSD: random reads cost about what
    # sequential ones do, and PostgreSQL's default (4.0) made it walk a sort index
    # past thousands of rows instead of fetching 1,300 matches by key.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "options", os.environ.get("KEHU_PG_OPTIONS", "-c random_page_cost=1.1")
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("KEHU_LANGUAGE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("KEHU_TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("KEHU_STATIC_ROOT", VAR_DIR / "static"))
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it to exist
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "kehu.core.api.pagination.KehuPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "kehu.core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "10/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kehu API",
    "DESCRIPTION": "Customer records, search and change history.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Choice sets that share a field name get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "kehu.customers.models.Kind",
        "AddressKindEnum": "kehu.customers.models.AddressKind",
        "CustomerStatusEnum": "kehu.customers.models.Status",
        "PointsEntryKindEnum": "kehu.loyalty.models.EntryKind",
        "QuestionKindEnum": "kehu.service.models.QuestionKind",
        "OrderStatusEnum": "kehu.sales.models.OrderStatus",
        "TaskStatusEnum": "kehu.engagement.models.TaskStatus",
        "EventTypeEnum": "kehu.engagement.models.EventType",
        "TicketTypeEnum": "kehu.service.models.TicketType",
        "TicketStateEnum": "kehu.service.models.TicketState",
        "InteractionChannelEnum": "kehu.engagement.models.Channel",
        "ChangeChannelEnum": "kehu.core.models.Channel",
        "FieldTypeEnum": "kehu.core.models.FieldType",
    },
}

FILTERS_EMPTY_CHOICE_LABEL = "—"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Soft-deleted records stay in the recycle bin this many days before purge.
KEHU_RECYCLE_RETENTION_DAYS = int(os.environ.get("KEHU_RECYCLE_RETENTION_DAYS", "30"))
KEHU_DEFAULT_PHONE_REGION = os.environ.get("KEHU_DEFAULT_PHONE_REGION", "CN")
# Purchase figures are summed in this currency; orders in another one need a rate
# here, as JSON ({"USD": "7.10"}: one US dollar is 7.10 of the base currency).
# Order batches of 10,000 run to several megabytes of JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("KEHU_MAX_REQUEST_MB", "64")) * 1024 * 1024
KEHU_BASE_CURRENCY = os.environ.get("KEHU_BASE_CURRENCY", "CNY").upper()
KEHU_EXCHANGE_RATES = json.loads(os.environ.get("KEHU_EXCHANGE_RATES") or "{}")
# Loyalty points expire this many months after they were earned or granted (0: never).
KEHU_LOYALTY_EXPIRY_MONTHS = int(os.environ.get("KEHU_LOYALTY_EXPIRY_MONTHS", "24"))
# Birthday care tasks are created this many days before the birthday.
# Outgoing email (reminders): an SMTP server, or none (reminders stay in the app).
_EMAIL_HOST = os.environ.get("KEHU_EMAIL_HOST", "")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _EMAIL_HOST,
            "port": int(os.environ.get("KEHU_EMAIL_PORT", "587")),
            "username": os.environ.get("KEHU_EMAIL_USER", ""),
            "password": os.environ.get("KEHU_EMAIL_PASSWORD", ""),
            "use_tls": env_bool("KEHU_EMAIL_TLS", True),
            "timeout": 20,
        },
    }
    if _EMAIL_HOST
    else {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
}
DEFAULT_FROM_EMAIL = os.environ.get("KEHU_EMAIL_FROM", "kehu@localhost")
KEHU_REMINDER_EMAILS = env_bool("KEHU_REMINDER_EMAILS", bool(_EMAIL_HOST))
KEHU_CARE_BIRTHDAY_DAYS_AHEAD = int(os.environ.get("KEHU_CARE_BIRTHDAY_DAYS_AHEAD", "3"))

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEHU_LOG_LEVEL", "WARNING")},
}
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS |= {
    # Swagger UI from the installed package, not a CDN: installs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
