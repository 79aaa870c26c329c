"""Our Chinese catalogue never changes what Django's own strings say.

Django merges the catalogues of Django, of every installed app and of LOCALE_PATHS into one,
ours last, so an entry of ours with the same msgid (and no msgctxt) as one of Django's
replaces Django's translation wherever Django uses that string: our nav link "Password" →
"修改密码" once labelled the password field of the login form. Where we mean something else
by a word Django also uses, our entry carries a context (pgettext / {% translate ... context %}).
"""

import ast
import re
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
OUR_PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
SITE_PACKAGES = Path(django.__file__).parent.parent

# Shared msgids where ours deliberately differs and is the better reading for Django's uses
# too (the admin shows these very words). Keep this short; anything else gets a context.
BETTER_FOR_DJANGO_TOO = {
    # Admin says 注销, which nowadays reads as "cancel / deregister the account".
    "Log out": "退出登录",
    # Same sentence; ours drops the 你的 that Chinese interfaces leave out.
    "Your password was changed.": "密码已修改。",
    # The admin's filter panel heading; 筛选 is the usual word for narrowing a list, 过滤器 is a
    # literal "filter device".
    "Filter": "筛选",
}


def parse_po(path: Path) -> dict[tuple[str | None, str], list[str]]:
    """{(msgctxt, msgid): [msgstr, ...]} of the translated, non-fuzzy, live entries of a .po."""
    entries: dict[tuple[str | None, str], list[str]] = {}
    current: dict[str, str] = {}
    key = None
    fuzzy = False

    def flush():
        nonlocal current, fuzzy
        if current.get("msgid") and not fuzzy:
            strings = [v for k, v in sorted(current.items()) if k.startswith("msgstr")]
            if any(strings):
                entries[(current.get("msgctxt"), current["msgid"])] = strings
        current, fuzzy = {}, False

    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            flush()
            key = None
        elif line.startswith("#,"):
            fuzzy = fuzzy or "fuzzy" in line
        elif line.startswith("#"):  # comments, references, obsolete (#~) entries
            continue
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
        else:
            key, value = line.split(" ", 1)
            if key in ("msgctxt", "msgid") and "msgid" in current:  # no blank line between
                flush()
            current[key] = ast.literal_eval(value)
    return entries


def reference_catalogues() -> list[Path]:
    """Django's own zh_Hans catalogue, every contrib app's (installed or not: installing one later
    must not change our pages or its own), and those of the other installed apps. An app that
    ships no zh_Hans but a zh_CN one (django-filter) is held to that: Django does not load it for
    zh-hans, so our entry is what its strings show."""
    django_dir = Path(django.__file__).parent
    app_dirs = {django_dir / "conf"} | {p.parent for p in (django_dir / "contrib").glob("*/locale")}
    app_dirs |= {Path(config.path) for config in apps.get_app_configs()}
    found = []
    for app_dir in sorted(app_dirs):
        if app_dir.parent == ROOT:  # our own apps (their strings are in OUR_PO)
            continue
        for lang in ("zh_Hans", "zh_CN"):
            po = app_dir / "locale" / lang / "LC_MESSAGES" / "django.po"
            if po.exists():
                found.append(po)
                break
    return found


def test_reference_catalogues_are_found():
    names = {str(po.relative_to(SITE_PACKAGES)) for po in reference_catalogues()}
    assert "django/conf/locale/zh_Hans/LC_MESSAGES/django.po" in names
    assert "django/contrib/auth/locale/zh_Hans/LC_MESSAGES/django.po" in names
    assert "django/contrib/admin/locale/zh_Hans/LC_MESSAGES/django.po" in names
    assert any(name.startswith("django_filters/") for name in names)


def test_no_entry_of_ours_changes_what_django_says():
    ours = parse_po(OUR_PO)
    assert ours, "could not read our catalogue"
    clashes = []
    shared = set()
    for po in reference_catalogues():
        for key, theirs in parse_po(po).items():
            if key in ours:
                shared.add(key)
            if key in ours and ours[key] != theirs:
                context, msgid = key
                if context is None and BETTER_FOR_DJANGO_TOO.get(msgid) == ours[key][0]:
                    continue
                clashes.append(f"{msgid!r} (context {context!r}): ours {ours[key]}, "
                               f"{po.parents[3].relative_to(SITE_PACKAGES)}'s {theirs}")
    # "Yes", "No", "Log in", "Save", "Simplified Chinese"...: the comparison did find them.
    assert len(shared) >= 10, shared
    assert not clashes, "give these entries of ours a context (pgettext):\n" + "\n".join(clashes)


def test_the_allowlist_names_entries_we_still_have():
    ours = parse_po(OUR_PO)
    for msgid, msgstr in BETTER_FOR_DJANGO_TOO.items():
        assert ours.get((None, msgid)) == [msgstr], msgid


def test_parse_po_reads_contexts_plurals_and_continuations(tmp_path):
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#: a.py:1\nmsgctxt "nav"\nmsgid "Password"\nmsgstr "修改密码"\n\n'
        'msgid "Password"\nmsgstr ""\n"密"\n"码"\n\n'
        'msgid "%(n)d day"\nmsgid_plural "%(n)d days"\nmsgstr[0] "%(n)d天"\n\n'
        '#, fuzzy\nmsgid "Close"\nmsgstr "关闭"\n\n'
        '#~ msgid "Old"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    assert parse_po(po) == {
        ("nav", "Password"): ["修改密码"],
        (None, "Password"): ["密码"],
        (None, "%(n)d day"): ["%(n)d天"],
    }


@pytest.mark.django_db
def test_login_form_labels_the_password_as_django_does(client):
    html = client.get("/accounts/login/").content.decode()
    label = re.search(r'<label for="id_password">([^<]*)', html)
    assert label and label.group(1).strip() == "密码"
    assert "修改密码" not in html


def test_our_words_and_djangos_words_each_keep_their_meaning():
    from django.contrib.admin.apps import AdminConfig
    from django.contrib.auth.forms import AuthenticationForm
    from django.contrib.sessions.models import Session

    from suggestions import workflow
    from suggestions.models import CongressSession, Suggestion

    with translation.override("zh-hans"):
        # Django's uses
        assert str(AuthenticationForm.base_fields["password"].label) == "密码"
        assert translation.gettext("Close") == "关闭"  # the admin's "close" link
        assert str(Session._meta.verbose_name) == "会话"
        assert str(AdminConfig.verbose_name) == "管理"
        # Ours
        assert workflow.action_label("close") == "办结"
        assert str(Suggestion._meta.get_field("session").verbose_name) == "届次"
        assert str(CongressSession._meta.get_field("year").verbose_name) == "年度"


def test_nav_links_keep_our_wording(client, demo, login):
    html = login("admin").get("/suggestions/").content.decode()
    assert ">修改密码</a>" in html
    assert ">系统管理</a>" in html
