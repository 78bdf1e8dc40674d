import datetime
import os
import time

import pytest
from django.conf import settings
from django.core.management import call_command

from crm_models.importing.pending import pending_load, pending_save


@pytest.mark.django_db
def test_cleanup_removes_only_expired_previews(capsys: pytest.CaptureFixture[str]) -> None:
    old = pending_save({"user_id": 1, "kind": "lead"})
    fresh = pending_save({"user_id": 1, "kind": "lead"})
    old_path = os.path.join(settings.MEDIA_ROOT, "django-import-export", old)
    two_days_ago = time.time() - datetime.timedelta(days=2).total_seconds()
    os.utime(old_path, (two_days_ago, two_days_ago))

    call_command("import_cleanup")

    assert capsys.readouterr().out == "Removed 1 expired import preview(s).\n"
    assert pending_load(old, user_id=1, kind="lead") is None
    assert pending_load(fresh, user_id=1, kind="lead") == {"user_id": 1, "kind": "lead"}
