"""Background tasks (django-tasks; the database backend's worker is ``manage.py db_worker``)."""

from __future__ import annotations

import logging
import tempfile
import time

from django.core.files import File
from django.core.files.storage import storages
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from .models import ExportJob

logger = logging.getLogger(__name__)
# Progress is written to the database at most this often (seconds).
PROGRESS_INTERVAL = 0.5


def replies_for_job(job: ExportJob):
    from replies.models import Reply
    from suggestions.filters import SuggestionFilter
    from suggestions.models import Suggestion

    params = QueryDict(mutable=True)
    for key, values in (job.filters or {}).items():
        params.setlist(key, values if isinstance(values, list) else [values])
    suggestions = SuggestionFilter(
        params, queryset=Suggestion.objects.visible_to(job.created_by)
    ).qs
    return Reply.objects.latest_signed().filter(suggestion__in=suggestions.values("pk")).select_related(
        "suggestion__session", "issuing_unit"
    ).order_by("suggestion__session__year", "suggestion__number", "version")


@task()
def run_export_job(job_id: str) -> int:
    """Export the job's replies into a zip in ``storages["exports"]``, recording progress as it
    goes. The zip is written to a local temporary file first, then saved to the storage (a
    bucket shared by every machine, or EXPORT_ROOT)."""
    from .export import ZipWriter, export_replies

    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status != ExportJob.Status.QUEUED:
        return job.done
    replies = replies_for_job(job)
    job.status, job.started_at = ExportJob.Status.RUNNING, timezone.now()
    job.total = replies.count()
    job.save(update_fields=["status", "started_at", "total"])
    last = 0.0

    def progress(done: int, total: int, name: str) -> None:
        nonlocal last
        now = time.monotonic()
        if done == total or now - last >= PROGRESS_INTERVAL:
            ExportJob.objects.filter(pk=job.pk).update(done=done, total=total)
            last = now

    try:
        with tempfile.TemporaryFile(suffix=".zip") as archive:
            writer = ZipWriter(archive)
            try:
                done = export_replies(
                    replies, writer, actor=job.created_by, progress=progress,
                    note=_("Export job %(id)s") % {"id": job.pk},
                )
            finally:
                writer.close()  # before the file it writes to is closed, also on failure
            size = archive.seek(0, 2)
            archive.seek(0)
            file_name = storages["exports"].save(f"{job.pk}.zip", File(archive, name="export.zip"))
    except Exception as error:
        logger.exception("Export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now()
        )
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE, done=done, total=done, file_name=file_name,
        file_size=size, finished_at=timezone.now(),
    )
    return done
