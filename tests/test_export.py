"""Bulk export of signed replies: the command, and the background export for the office."""

import hashlib
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from documents.models import ExportJob, SignedLetter
from replies.models import Reply
from suggestions.models import Event

SEED_FILE = "市八届人大一次会议第120号建议的回复.pdf"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def exports(settings, tmp_path):
    settings.EXPORT_ROOT = tmp_path / "exports"
    settings.TASKS = IMMEDIATE
    return settings.EXPORT_ROOT


def export_events(**filters):
    return Event.objects.filter(action="bulk_export", internal=True, **filters)


def test_export_command_writes_every_signed_reply(demo, tmp_path):
    out = io.StringIO()
    call_command("export_replies", "--out", str(tmp_path / "out"), stdout=out)
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == [SEED_FILE]
    assert (tmp_path / "out" / SEED_FILE).read_bytes().startswith(b"%PDF-")
    assert f"[1/1] {SEED_FILE}" in out.getvalue()
    assert export_events(suggestion=demo).count() == 1


def test_export_command_filters_by_session_and_unit(demo, tmp_path):
    call_command("export_replies", "--out", str(tmp_path / "a"), "--session", "市八届人大一次会议",
                 "--unit", "晋城市工信局", stdout=io.StringIO())
    assert [p.name for p in (tmp_path / "a").iterdir()] == [SEED_FILE]
    out = io.StringIO()
    call_command("export_replies", "--out", str(tmp_path / "b"), "--unit",
                 "晋城市住房和城乡建设局", stdout=out)
    assert not (tmp_path / "b").exists()
    assert "未导出任何文件" in out.getvalue()  # command messages are in Chinese too


def test_export_command_refuses_unknown_filters(demo, tmp_path):
    with pytest.raises(CommandError, match="市八届人大一次会议"):
        call_command("export_replies", "--out", str(tmp_path), "--session", "市九届人大一次会议")
    with pytest.raises(CommandError, match="没有名为“不存在的单位”的承办单位"):
        call_command("export_replies", "--out", str(tmp_path), "--unit", "不存在的单位")
    assert not export_events().exists()


def zipped_letters(archive) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zipped:
        return {name: zipped.read(name) for name in zipped.namelist()}


def stored_digest(name: str) -> str:
    """The SHA-256 recorded for the stored letter exported as ``name``."""
    letters = SignedLetter.objects.select_related("reply__suggestion__session")
    (letter,) = [letter for letter in letters if letter.reply.pdf_filename() == name]
    return letter.sha256


def test_export_zips_the_stored_letters_as_they_are_served(demo, tmp_path, login, monkeypatch):
    from demo.management.commands.bench_pdf import make_signed_copies

    # Three letters signed before letters were stored: the export stores them first, once.
    make_signed_copies(demo.replies.get(), 3)
    call_command("export_replies", "--out", str(tmp_path / "first"), "--zip", stdout=io.StringIO())
    assert SignedLetter.objects.filter(backfilled=True).count() == 3
    (archive,) = (tmp_path / "first").glob("*.zip")
    exported = zipped_letters(archive)
    assert SEED_FILE in exported and len(exported) == 4
    for name, data in exported.items():
        assert hashlib.sha256(data).hexdigest() == stored_digest(name)
    staff = login("office")
    for reply in Reply.objects.signed():
        served = staff.get(reverse("replies:pdf", args=[reply.pk]))
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert body == exported[reply.pdf_filename()]

    # Nothing is rendered again: a second export with the renderer broken is the same bytes.
    from documents import letters, pdf

    def no_rendering(*args, **kwargs):
        raise AssertionError("rendered")

    monkeypatch.setattr(pdf, "reply_html", no_rendering)
    monkeypatch.setattr(letters, "render_archival", no_rendering)
    call_command("export_replies", "--out", str(tmp_path / "again"), "--zip", stdout=io.StringIO())
    (again,) = (tmp_path / "again").glob("*.zip")
    assert zipped_letters(again) == exported
    assert SignedLetter.objects.count() == 4
    assert export_events().count() == 8


def interrupt_on_read(monkeypatch, nth: int) -> None:
    """Ctrl-C while the ``nth`` letter is read from storage."""
    from documents import letters

    real_read, reads = letters.read_letter, []

    def read(letter):
        reads.append(letter)
        if len(reads) == nth:
            raise KeyboardInterrupt
        return real_read(letter)

    monkeypatch.setattr(letters, "read_letter", read)


def test_an_interrupted_zip_export_is_deleted(demo, tmp_path, monkeypatch):
    from demo.management.commands.bench_pdf import make_signed_copies

    make_signed_copies(demo.replies.get(), 5)
    interrupt_on_read(monkeypatch, 3)
    with pytest.raises(CommandError, match="中断.*未完成的压缩包已删除"):
        call_command("export_replies", "--out", str(tmp_path), "--zip", "--workers", "2",
                     stdout=io.StringIO())
    assert list(tmp_path.iterdir()) == []
    assert not export_events().exists()  # the batch in progress is rolled back


def test_an_interrupted_directory_export_leaves_only_whole_letters(demo, tmp_path, monkeypatch):
    from demo.management.commands.bench_pdf import make_signed_copies

    make_signed_copies(demo.replies.get(), 5)
    interrupt_on_read(monkeypatch, 4)
    with pytest.raises(CommandError, match="中断"):
        call_command("export_replies", "--out", str(tmp_path), "--workers", "1",
                     stdout=io.StringIO())
    written = list(tmp_path.iterdir())
    assert len(written) == 3 and all(path.suffix == ".pdf" for path in written)
    for path in written:
        assert hashlib.sha256(path.read_bytes()).hexdigest() == stored_digest(path.name)


def test_a_damaged_stored_letter_stops_the_export(demo, tmp_path):
    from django.core.files.storage import storages

    letter = SignedLetter.objects.get(reply__suggestion=demo)
    storage = storages["default"]
    storage.delete(letter.file.name)
    storage.save(letter.file.name, io.BytesIO(b"%PDF-1.7 not the signed letter"))
    with pytest.raises(CommandError, match="存档文件缺失或已损坏"):
        call_command("export_replies", "--out", str(tmp_path), "--zip", stdout=io.StringIO())
    assert list(tmp_path.iterdir()) == []
    assert not export_events().exists()


def test_office_exports_the_filtered_list_as_a_zip(demo, login, exports):
    client = login("office")
    query = f"?session={demo.session_id}"
    page = client.get(reverse("documents:export_start") + query)
    assert page.status_code == 200
    assert page.context["count"] == 1

    response = client.post(reverse("documents:export_start") + query)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:export_job", args=[job.pk])
    assert job.status == ExportJob.Status.DONE
    assert (job.done, job.total) == (1, 1)
    assert job.filters == {"session": [str(demo.session_id)]}

    progress = client.get(response["Location"])
    assert progress.status_code == 200
    assert 'http-equiv="refresh"' not in progress.content.decode()
    assert reverse("documents:export_download", args=[job.pk]) in progress.content.decode()

    download = client.get(reverse("documents:export_download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    exported = zipped_letters(io.BytesIO(b"".join(download.streaming_content)))
    assert list(exported) == [SEED_FILE]
    assert hashlib.sha256(exported[SEED_FILE]).hexdigest() == stored_digest(SEED_FILE)
    event = export_events(suggestion=demo).get()
    assert event.actor.username == "office"


def test_export_follows_the_list_filters(demo, login, exports):
    client = login("office")
    response = client.post(reverse("documents:export_start") + "?status=registered")
    assert response.status_code == 302
    assert not ExportJob.objects.exists()
    assert not export_events().exists()


def test_progress_page_refreshes_while_the_export_runs(demo, login, user, exports):
    job = ExportJob.objects.create(created_by=user("office"), status=ExportJob.Status.RUNNING,
                                   total=200, done=50)
    page = login("office").get(reverse("documents:export_job", args=[job.pk]))
    html = page.content.decode()
    assert '<meta http-equiv="refresh"' in html
    assert 'value="25"' in html
    assert reverse("documents:export_download", args=[job.pk]) not in html
    assert login("office").get(reverse("documents:export_download", args=[job.pk])
                               ).status_code == 404


@pytest.mark.parametrize("username", ["staff", "head", "deputy", "other_staff"])
def test_only_the_congress_office_may_export(demo, login, user, exports, username):
    job = ExportJob.objects.create(created_by=user("office"), status=ExportJob.Status.DONE)
    client = login(username)
    assert client.get(reverse("documents:export_start")).status_code == 403
    assert client.post(reverse("documents:export_start")).status_code == 403
    assert client.get(reverse("documents:export_job", args=[job.pk])).status_code == 404
    assert client.get(reverse("documents:export_download", args=[job.pk])).status_code == 404
    assert not ExportJob.objects.exclude(pk=job.pk).exists()


def test_anonymous_users_are_sent_to_log_in(demo, client, exports):
    response = client.post(reverse("documents:export_start"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_a_failed_export_is_reported(demo, login, exports, monkeypatch):
    import documents.export

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(documents.export, "export_replies", broken)
    client = login("admin")
    response = client.post(reverse("documents:export_start"))
    job = ExportJob.objects.get()
    assert job.status == ExportJob.Status.FAILED
    assert "disk full" in job.error
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'role="alert"' in page.content.decode()


def test_prune_exports_removes_old_jobs_and_their_files(db, user, settings, tmp_path):
    import datetime

    from django.core.management import call_command
    from django.utils import timezone

    from demo.seed import load_demo
    from documents.models import ExportJob

    load_demo()
    settings.EXPORT_ROOT = tmp_path
    old_file, new_file = tmp_path / "old.zip", tmp_path / "new.zip"
    old_file.write_bytes(b"PK")
    new_file.write_bytes(b"PK")
    old = ExportJob.objects.create(created_by=user("office"), status=ExportJob.Status.DONE,
                                   file_name="old.zip")
    ExportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=10))
    new = ExportJob.objects.create(created_by=user("office"), status=ExportJob.Status.DONE,
                                   file_name="new.zip")
    call_command("prune_exports", "--days", "7")
    assert not ExportJob.objects.filter(pk=old.pk).exists() and not old_file.exists()
    assert ExportJob.objects.filter(pk=new.pk).exists() and new_file.exists()


def test_a_signed_reply_without_a_verification_code_is_exported_as_the_view_renders_it(
        demo, tmp_path):
    from demo.management.commands.bench_pdf import make_signed_copies

    (odd,) = make_signed_copies(demo.replies.get(), 1)
    Reply.objects.filter(pk=odd.pk).update(verification_code=None)  # no code: nothing to store
    call_command("export_replies", "--out", str(tmp_path), stdout=io.StringIO())
    odd = Reply.objects.select_related("suggestion__session").get(pk=odd.pk)
    assert (tmp_path / odd.pdf_filename()).read_bytes().startswith(b"%PDF-")
    assert not SignedLetter.objects.filter(reply=odd).exists()
