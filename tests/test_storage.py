"""Files go through Django's storages, never straight to this machine's disk: uploads (consultation
attachments, seals) through "default", export zips through "exports". Then several machines can
share them in an S3-compatible bucket (STORAGE_BACKEND=s3). Tested here with a storage that is
not the local disk (Django's InMemoryStorage), and with the settings the environment selects."""

import base64
import datetime
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import InMemoryStorage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from consultations.models import Attachment, Consultation
from documents.models import ExportJob

MEMORY = {"BACKEND": "django.core.files.storage.InMemoryStorage"}
STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SEED_FILE = "市八届人大一次会议第120号建议的回复.pdf"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def off_disk(settings, tmp_path):
    """Both storages in memory, and the local directories they would otherwise use empty."""
    settings.STORAGES = {"default": MEMORY, "exports": MEMORY, "staticfiles": STATIC}
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.TASKS = IMMEDIATE
    yield
    assert not any(tmp_path.iterdir()), "something was written to the local disk"


def test_a_consultation_attachment_is_uploaded_to_and_served_from_the_storage(demo, login, off_disk):
    record = Consultation.objects.get(suggestion=demo)
    login("staff").post(reverse("consultations:attachment_upload", args=[record.pk]), {
        "kind": "scan", "file": SimpleUploadedFile("签字扫描件.pdf", PDF_BYTES),
    })
    attachment = Attachment.objects.get()
    assert isinstance(storages["default"], InMemoryStorage)
    assert storages["default"].exists(attachment.file.name)
    assert not os.path.exists(attachment.file.path)  # the name it would have on disk
    response = login("deputy").get(reverse("consultations:attachment", args=[attachment.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES


def test_a_units_seal_is_read_from_the_storage(demo, off_disk):
    from documents.pdf import seal_data_uri

    unit = demo.lead_unit
    unit.seal.save("seal.png", ContentFile(PNG_BYTES))
    assert storages["default"].exists(unit.seal.name)
    assert seal_data_uri(unit) == "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()


def test_an_export_zip_is_saved_to_downloaded_from_and_pruned_from_the_storage(
        off_disk, demo, login, user):  # off_disk first: the demo's signed letter is stored there
    from documents.tasks import run_export_job

    job = ExportJob.objects.create(created_by=user("office"), filters={"session": [str(demo.session_id)]})
    assert run_export_job.call(str(job.pk)) == 1
    job.refresh_from_db()
    exports = storages["exports"]
    assert job.status == ExportJob.Status.DONE and exports.exists(job.file_name)
    assert job.file_size == exports.size(job.file_name)
    assert not storages["default"].exists(job.file_name)  # its own storage, not the uploads'

    response = login("office").get(reverse("documents:export_download", args=[job.pk]))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert zipped.namelist() == [SEED_FILE]
        assert zipped.read(SEED_FILE).startswith(b"%PDF-")

    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - datetime.timedelta(days=8))
    call_command("prune_exports", "--days", "7", stdout=io.StringIO())
    assert not exports.exists(job.file_name) and not ExportJob.objects.filter(pk=job.pk).exists()


def test_the_office_export_screens_use_the_exports_storage(off_disk, demo, login):
    client = login("office")
    response = client.post(reverse("documents:export_start") + f"?session={demo.session_id}")
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.DONE
    assert response["Location"] == reverse("documents:export_job", args=[job.pk])
    assert storages["exports"].exists(job.file_name)
    storages["exports"].delete(job.file_name)
    # Gone from the storage (pruned by another machine): "not ready", not a server error.
    assert client.get(reverse("documents:export_download", args=[job.pk])).status_code == 404


def test_export_zips_stay_under_export_root_by_default(demo, user, settings, tmp_path):
    from documents.tasks import run_export_job

    settings.EXPORT_ROOT = tmp_path / "zips"
    job = ExportJob.objects.create(created_by=user("office"))
    run_export_job.call(str(job.pk))
    job.refresh_from_db()
    assert (tmp_path / "zips" / job.file_name).is_file()


# --- What the environment selects -------------------------------------------------------------

def settings_in_a_fresh_process(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items()
                   if not key.startswith(("AWS_", "STORAGE_", "REDIS_"))}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", TESTING="1", **env)
    program = "import django, json; django.setup(); from django.conf import settings; " + code
    return subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


S3_ENV = {
    "STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": "suggestions-files",
    "AWS_S3_ENDPOINT_URL": "http://minio.internal:9000", "AWS_S3_REGION_NAME": "cn-north-1",
    "AWS_ACCESS_KEY_ID": "key-id", "AWS_SECRET_ACCESS_KEY": "secret",
}


def test_s3_puts_uploads_and_exports_in_one_private_bucket_apart():
    done = settings_in_a_fresh_process(
        "print(json.dumps({k: v for k, v in settings.STORAGES.items()}))", **S3_ENV)
    assert done.returncode == 0, done.stderr
    configured = json.loads(done.stdout)
    for alias, location in (("default", "media"), ("exports", "exports")):
        assert configured[alias]["BACKEND"] == "storages.backends.s3.S3Storage"
        assert configured[alias]["OPTIONS"] == {
            "bucket_name": "suggestions-files", "endpoint_url": "http://minio.internal:9000",
            "region_name": "cn-north-1", "access_key": "key-id", "secret_key": "secret",
            "location": location, "default_acl": "private", "file_overwrite": False,
        }


def test_s3_storages_can_be_built_from_those_settings():
    pytest.importorskip("storages.backends.s3", reason="the s3 extra is not installed")
    done = settings_in_a_fresh_process(
        "from django.core.files.storage import storages; "
        "d, e = storages['default'], storages['exports']; "
        "print(json.dumps([type(d).__name__, d.bucket_name, d.location, e.location, "
        "d.endpoint_url, d.file_overwrite]))",
        **S3_ENV,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [
        "S3Storage", "suggestions-files", "media", "exports", "http://minio.internal:9000", False,
    ]


def test_the_filesystem_is_the_default_and_a_typo_fails_at_start_up():
    done = settings_in_a_fresh_process(
        "print(json.dumps([settings.STORAGES[a]['BACKEND'] for a in ('default', 'exports')]))")
    assert json.loads(done.stdout) == ["django.core.files.storage.FileSystemStorage",
                                       "documents.storage.ExportStorage"]
    typo = settings_in_a_fresh_process("pass", STORAGE_BACKEND="s4")
    assert typo.returncode != 0 and "STORAGE_BACKEND" in typo.stderr


# --- Nothing lives in one process's memory ----------------------------------------------------

def test_sessions_and_login_throttling_are_in_the_database():
    assert django_settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_the_cache_is_redis_when_redis_url_is_set():
    done = settings_in_a_fresh_process("print(settings.CACHES['default']['BACKEND'])",
                                       REDIS_URL="redis://cache.internal:6379/0")
    assert done.stdout.strip() == "django.core.cache.backends.redis.RedisCache"
