"""structlog setup: JSON lines in production, console in DEBUG, secrets redacted always."""

import logging
import os
import re

import structlog

SECRET_KEYS = re.compile(r"(secret|token|password|api[_-]?key|authorization|credential|whsec)", re.I)
SECRET_VALUES = re.compile(r"(whsec_[A-Za-z0-9+/=]+|Bearer\s+\S+|Api-Key\s+\S+)")
REDACTED = "[redacted]"


def redact(value):
    if isinstance(value, dict):
        return {k: (REDACTED if SECRET_KEYS.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return SECRET_VALUES.sub(REDACTED, value)
    return value


def redact_secrets(_logger, _method, event_dict):
    """Redacts by key name and by recognisable secret shapes, wherever they hide."""
    return redact(event_dict)


shared_processors = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,
]

structlog.configure(
    processors=[*shared_processors, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
    logger_factory=structlog.stdlib.LoggerFactory(),
    wrapper_class=structlog.stdlib.BoundLogger,
    cache_logger_on_first_use=True,
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "structured": {
            "()": structlog.stdlib.ProcessorFormatter,
            "processors": [
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # People read the console in development; machines read JSON in production.
                structlog.dev.ConsoleRenderer(colors=False)
                if os.environ.get("DEBUG", "").lower() in ("1", "true", "yes", "on")
                else structlog.processors.JSONRenderer(),
            ],
            "foreign_pre_chain": shared_processors,
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Every task start/finish at INFO drowns the console; failures still show.
        "django-q": {"level": os.environ.get("Q_LOG_LEVEL", "WARNING")},
    },
}

logging.captureWarnings(True)
