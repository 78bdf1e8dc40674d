"""An import between its preview and its confirmation.

The preview's cleaned rows are kept in django-import-export's temporary storage
(`IMPORT_EXPORT_TMP_STORAGE_CLASS`, media or cache based, so any app server can
pick up the confirmation), under a random name, together with the user it
belongs to: a name guessed or taken from someone else does nothing.
"""

import contextlib
import datetime
import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

TOKEN_PATTERN = re.compile(r"^[0-9a-f]{32}$")


def _storage(name: str | None = None) -> Any:
    storage_class = import_string(settings.IMPORT_EXPORT_TMP_STORAGE_CLASS)
    return storage_class(name=name, encoding="utf-8", read_mode="r")


def pending_save(payload: dict[str, Any]) -> str:
    token = uuid.uuid4().hex
    # Bytes, not text: S3 storage checksums a text body other than it sends
    # it once it holds non-ASCII characters, and the read then fails.
    _storage(token).save(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    return token


def pending_load(token: str, *, user_id: int | None, kind: str) -> dict[str, Any] | None:
    """The payload saved under `token` by this user for this model, else None."""
    if not TOKEN_PATTERN.match(token or ""):
        return None
    try:
        raw = _storage(token).read()
    except (OSError, ValueError):
        return None
    if not raw:
        return None
    payload = json.loads(raw)
    if payload.get("user_id") != user_id or payload.get("kind") != kind:
        return None
    return payload


def pending_remove_expired(*, older_than: datetime.timedelta) -> int:
    """Delete previews nobody confirmed; returns how many. Only media-based
    storage keeps files: cache storage expires entries on its own."""
    storage = _storage()
    inner = getattr(storage, "_storage", None)
    folder = getattr(storage, "MEDIA_FOLDER", None)
    if inner is None or folder is None or not inner.exists(folder):
        return 0
    cutoff = timezone.now() - older_than
    removed = 0
    for name in inner.listdir(folder)[1]:
        path = f"{folder}/{name}"
        if TOKEN_PATTERN.match(name) and inner.get_modified_time(path) < cutoff:
            inner.delete(path)
            removed += 1
    return removed


def pending_remove(token: str) -> None:
    if TOKEN_PATTERN.match(token or ""):
        with contextlib.suppress(OSError, ValueError):
            _storage(token).remove()
