"""Pluggable SMS: the SMS_BACKEND setting names a backend class (dotted path).

A bureau plugs in its SMS gateway by writing a class with ``send(phone, text)`` that raises on
failure (the delivery is then retried). Shipped: ``NullBackend`` (the default: no SMS),
``ConsoleBackend`` (logs each message) and ``FileBackend`` (appends to SMS_FILE_PATH).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class BaseBackend:
    #: False: no SMS delivery is even recorded.
    enabled = True

    def send(self, phone: str, text: str) -> None:
        raise NotImplementedError


class NullBackend(BaseBackend):
    enabled = False

    def send(self, phone: str, text: str) -> None:
        return None


class ConsoleBackend(BaseBackend):
    """Logs each message (logger ``notifications.sms``)."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


class FileBackend(BaseBackend):
    """Appends one line per message to SMS_FILE_PATH: time, phone, text (tab-separated)."""

    _lock = threading.Lock()

    def send(self, phone: str, text: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = "\t".join((timezone.now().isoformat(), phone, " ".join(text.split())))
        with self._lock, path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def get_backend() -> BaseBackend:
    path = getattr(settings, "SMS_BACKEND", "") or "notifications.sms.NullBackend"
    return import_string(path)()
