"""Real-browser tests: Debian's Chromium driven by Playwright against the live server."""

import os

import pytest
from conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.usefixtures("release_live_server_connections"),
]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-pass-2022")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/todo/")


def test_staff_works_in_chinese_on_a_tablet(seeded, live_server, browser):
    page = browser.new_page(viewport={"width": 820, "height": 1180}, locale="en-US")
    log_in(page, live_server, "staff")
    page.goto(f"{live_server.url}/suggestions/")
    # Chinese by default, even for a browser that asks for English.
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    page.click("text=关于应加强加速 5G 新型基建发展")
    page.wait_for_selector("text=德源大酒店")
    assert page.locator(".status").first.inner_text() == "已测评"
    # Nothing on the page is wider than a tablet screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 820


def test_script_payload_in_suggestion_never_runs(seeded, live_server, browser):
    from suggestions.models import Suggestion

    Suggestion.objects.filter(number=120).update(
        content='<p>正文</p><img src=x onerror="document.title=\'pwned\'">'
                '<script>document.title="pwned"</script>'
    )
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log_in(page, live_server, "deputy")
    page.goto(f"{live_server.url}/suggestions/{Suggestion.objects.get(number=120).pk}/")
    page.wait_for_selector("text=正文")
    page.wait_for_timeout(300)
    assert page.title() != "pwned" and not dialogs


def test_head_signs_off_a_reply_in_the_browser(seeded, live_server, browser):
    from django.contrib.auth import get_user_model

    from core.roles import role_of  # noqa: F401  (imports the app registry)
    from replies.models import Reply
    from replies.services import reply_create_draft, reply_submit
    from suggestions.models import Suggestion

    staff = get_user_model().objects.get(username="staff")
    reply = reply_create_draft(suggestion=Suggestion.objects.get(number=123), user=staff)
    Reply.objects.filter(pk=reply.pk).update(body=reply.body + "\n一、办理情况\n已对接金融机构。")
    reply_submit(reply=Reply.objects.get(pk=reply.pk), user=staff)

    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "cannot be edited afterwards" confirm
    log_in(page, live_server, "head")
    page.goto(f"{live_server.url}/replies/{reply.pk}/")
    page.click("button:has-text('签发')")
    page.wait_for_selector(".msg-success")
    assert Reply.objects.get(pk=reply.pk).status == "signed"


def test_deputy_reads_the_list_and_the_letter_on_a_phone(seeded, live_server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    log_in(page, live_server, "deputy")
    page.goto(f"{live_server.url}/suggestions/")
    # Each suggestion is a labelled card; nothing needs sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert not page.locator("table.list thead").is_visible()
    label = page.evaluate(
        "getComputedStyle(document.querySelector('table.list td'), '::before').content"
    )
    assert label == '"编号"'
    page.click("text=关于应加强加速 5G 新型基建发展")
    page.click("text=关于市八届人大一次会议第120号建议的回复")
    page.wait_for_selector(".letter-heading")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def fill_intake_form(page, live_server, number: int) -> None:
    page.goto(f"{live_server.url}/suggestions/new/")
    page.select_option("select[name=session]", index=1)
    page.fill("input[name=number]", str(number))
    page.fill("input[name=title]", f"关于第{number}号测试的建议")
    page.fill("textarea[name=content]", "建议内容。")
    page.select_option("select[name=lead_deputy]", index=1)


def test_a_double_click_on_the_intake_form_registers_once(seeded, live_server, browser):
    from suggestions.models import Suggestion

    page = browser.new_page()
    log_in(page, live_server, "office")
    fill_intake_form(page, live_server, 901)
    button = page.locator("form.form button.primary[type=submit]")
    button.dblclick()
    page.wait_for_url(lambda url: url.rstrip("/").split("/")[-1].isdigit())
    assert Suggestion.objects.filter(number=901).count() == 1


def test_closing_asks_for_confirmation_first(seeded, live_server, browser):
    from suggestions.models import Status, Suggestion

    page = browser.new_page()
    log_in(page, live_server, "office")
    suggestion = Suggestion.objects.get(number=120)
    page.goto(f"{live_server.url}/suggestions/{suggestion.pk}/")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('办结')")
    page.wait_for_timeout(300)
    assert dialogs and "办结" in dialogs[0]
    suggestion.refresh_from_db()
    assert suggestion.status == Status.EVALUATED


def test_a_form_button_disables_itself_after_the_first_click(seeded, live_server, browser):
    page = browser.new_page()
    log_in(page, live_server, "office")
    fill_intake_form(page, live_server, 902)
    # Keep the page from leaving, to look at the button after the click.
    page.evaluate("document.querySelector('form.form').addEventListener("
                  "'submit', (event) => event.preventDefault())")
    button = page.locator("form.form button.primary[type=submit]")
    assert not button.is_disabled()
    button.click()
    page.wait_for_timeout(100)
    assert button.is_disabled()
