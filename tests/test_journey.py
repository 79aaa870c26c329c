"""The whole journey of one suggestion, as people do it, in a real browser.

The office registers and assigns a suggestion with a co-handling unit → the unit accepts → the
co-unit sends its opinion → staff log a consultation on a tablet → draft → the head signs on a
phone → staff send → the deputy finds it in their to-do, reads the timeline, downloads the PDF,
rates 不满意 → re-handling → a second reply → 满意 → the office closes → the reply is on
/public/ without the deputy's mobile number.

Every step checks what a person would see. Screenshots of every main page are saved under
``test-artifacts/journey/`` (CI keeps that folder); a failing step saves its screenshot too.
Every page visited is checked for unlabelled fields, form controls Tab cannot reach, console
errors and requests to any host but the app's own; logging in, the co-unit's opinion and the
consultation record are filled in by keyboard alone.
"""

import contextlib
import os
import re
from pathlib import Path

import pytest
from conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
    pytest.mark.usefixtures("release_live_server_connections"),
]

ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / "test-artifacts"))
MOBILE = "13935685333"
TITLE = "关于完善城区停车设施的建议"
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => el.type !== 'hidden' && !el.closest('[hidden]'))
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id)"""
# Form controls Tab cannot reach (a negative tabindex, or a control drawn without one).
UNREACHABLE = """() => [...document.querySelectorAll(
    'main form input, main form select, main form textarea, main form button')]
  .filter(el => el.type !== 'hidden' && !el.disabled && el.offsetParent !== null)
  .filter(el => el.tabIndex < 0)
  .map(el => el.name || el.id || el.textContent.trim())"""


class Journey:
    """One person's browser tab, with the checks every page gets."""

    def __init__(self, browser, live_server, name: str, viewport=None):
        self.server = live_server.url
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.name = name
        self.errors: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)
        self.page.on("dialog", lambda dialog: dialog.accept())
        (ARTIFACTS / "journey").mkdir(parents=True, exist_ok=True)

    def _request(self, request) -> None:
        url = request.url
        if not (url.startswith(self.server) or url.startswith("data:") or url.startswith("blob:")):
            self.foreign.append(url)

    @contextlib.contextmanager
    def step(self, label: str):
        """A step: on failure, the screenshot shows where it stopped."""
        try:
            yield self.page
        except Exception:
            self.shot(f"FAILED-{label}")
            raise
        self.check_page()
        self.shot(label)

    def shot(self, label: str) -> None:
        safe = re.sub(r"[^\w-]+", "-", f"{self.name}-{label}")
        self.page.screenshot(path=str(ARTIFACTS / "journey" / f"{safe}.png"), full_page=True)

    def check_page(self) -> None:
        assert self.page.evaluate(UNLABELLED) == [], f"unlabelled fields on {self.page.url}"
        assert self.page.evaluate(UNREACHABLE) == [], f"fields Tab skips on {self.page.url}"
        assert self.errors == [], f"console errors on {self.page.url}: {self.errors}"
        assert self.foreign == [], f"requests to other hosts: {self.foreign}"

    def log_in(self, username: str) -> None:
        """By keyboard alone: tab into the fields, type, press Enter."""
        page = self.page
        page.goto(f"{self.server}/accounts/login/")
        page.focus("input[name=username]")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        page.keyboard.type("demo-pass-2022")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{self.server}/todo/")

    def tab_to(self, selector: str, limit: int = 80) -> None:
        """Press Tab until the element ``selector`` names has the focus."""
        for _ in range(limit):
            if self.page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reaches {selector} on {self.page.url}")

    def fill_by_keyboard(self, fields: dict[str, str], submit: str) -> None:
        """Fill a form by keyboard alone: Tab to each field and type, Tab to the submit
        button and press Enter."""
        self.page.locator("body").focus()
        for selector, text in fields.items():
            self.tab_to(selector)
            self.page.keyboard.type(text)
        self.tab_to(submit)
        self.page.keyboard.press("Enter")

    def open_todo_item(self, group: str, title: str = TITLE) -> None:
        """The to-do page lists the item under ``group``; open it."""
        self.page.goto(f"{self.server}/todo/")
        self.page.click(f"#todo-{group} .todo-items a:has-text('{title}')")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(seeded, live_server, browser):
    opened = []

    def person(name, viewport=None):
        journey = Journey(browser, live_server, name, viewport)
        opened.append(journey)
        journey.log_in(name)
        return journey

    yield person
    for journey in opened:
        journey.close()


def status_text(page) -> str:
    return page.locator(".page-head .status").first.inner_text()


def draft_sign_and_send(staff, head, suggestion_url: str, paragraph: str) -> None:
    with staff.step("draft") as page:
        page.goto(suggestion_url)
        page.click("button:has-text('起草答复'), button:has-text('新建版本')")
        page.wait_for_selector("textarea[name=body]")
        body = page.locator("textarea[name=body]")
        body.fill(body.input_value().replace("\n\n", f"\n一、办理情况\n{paragraph}\n\n", 1))
        page.click("button[name=submit]")
        page.wait_for_selector("text=待签发")
    with head.step("sign-on-a-phone") as page:
        head.open_todo_item("to_sign")
        page.click("button:has-text('签发')")
        page.wait_for_selector(".msg-success")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    with staff.step("send") as page:
        page.goto(suggestion_url)
        page.click("a[href^='/replies/'] strong")  # the latest version is listed first
        page.click("button:has-text('标记为已送达代表')")
        page.wait_for_selector(".msg-success")


def test_one_suggestion_from_intake_to_a_published_reply(people, live_server):
    from publication.models import Publication
    from suggestions.models import Suggestion

    office = people("office")
    with office.step("register") as page:
        page.goto(f"{live_server.url}/suggestions/new/")
        page.select_option("select[name=session]", label="市八届人大一次会议")
        page.fill("input[name=number]", "950")
        page.fill("input[name=title]", TITLE)
        page.fill("textarea[name=content]", "建议在老城区增设公共停车位，缓解停车难。")
        page.select_option("select[name=lead_deputy]", label="苏红平")
        page.click("form.form button.primary[type=submit]")
        page.wait_for_selector(f"text={TITLE}")
        assert status_text(page) == "已登记"
    suggestion = Suggestion.objects.get(number=950)
    url = f"{live_server.url}/suggestions/{suggestion.pk}/"
    with office.step("assign") as page:
        page.click("a:has-text('交办')")
        page.select_option("select[name=unit]", label="晋城市工业和信息化局")
        page.select_option("select[name=co_units]", label="晋城市教育局")
        page.click("form.form button.primary[type=submit]")
        page.wait_for_selector(".msg-success")
        assert status_text(page) == "已交办"

    staff = people("staff", TABLET)
    with staff.step("accept-on-a-tablet") as page:
        staff.open_todo_item("to_accept")
        page.click("button:has-text('签收')")
        page.wait_for_selector(".msg-success")
        assert status_text(page) == "办理中"

    co_unit = people("edu_staff")
    with co_unit.step("co-opinion") as page:
        co_unit.open_todo_item("co_opinions")
        page.click("a:has-text('填写意见')")
        co_unit.fill_by_keyboard({"textarea[name=opinion]": "教育局同意在学校周边规划临时停车区域。"},
                                 submit="main form button[type=submit]")
        page.wait_for_selector(".msg-success")

    with staff.step("consultation-on-a-tablet") as page:
        staff.open_todo_item("to_meet")
        page.click("a:has-text('登记面商')")
        staff.fill_by_keyboard({
            "input[name=place]": "市工信局会议室", "input[name=attendees]": "延娜",
            "textarea[name=reply_points]": "拟在老城区新增停车位三百个。",
        }, submit="main form button[type=submit]")
        page.wait_for_selector(".msg-success")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]

    head = people("head", PHONE)
    draft_sign_and_send(staff, head, url, "已会同教育局规划新增停车位。")

    deputy = people("deputy")
    with deputy.step("to-do-and-timeline") as page:
        deputy.open_todo_item("to_rate")
        page.wait_for_selector("text=提交测评")
        reply_url = page.url
        page.goto(url)
        timeline = page.locator(".timeline").inner_text()
        assert "答复函已送达您" in timeline and "承办单位已就该建议与您面商或联系" in timeline
        pdf = page.request.get(reply_url.rstrip("/") + "/pdf/?download=1")
        assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body()[:5] == b"%PDF-"
    with deputy.step("rate-unsatisfied") as page:
        page.goto(reply_url)
        page.check("input[name=attitude][value=satisfied]")
        page.check("input[name=result][value=unsatisfied]")
        page.click("button:has-text('提交测评')")
        page.wait_for_selector(".msg-success")
    suggestion.refresh_from_db()
    assert suggestion.status == "rehandling"

    draft_sign_and_send(staff, head, url, "根据代表意见，已增加停车位至五百个。")
    with deputy.step("rate-satisfied") as page:
        deputy.open_todo_item("to_rate")
        page.check("input[name=attitude][value=satisfied]")
        page.check("input[name=result][value=satisfied]")
        page.click("button:has-text('提交测评')")
        page.wait_for_selector(".msg-success")

    with office.step("close") as page:
        office.open_todo_item("to_close")
        page.click("button:has-text('办结')")
        page.wait_for_selector(".msg-success")
        assert status_text(page) == "已办结"

    public = Journey(office.page.context.browser, live_server, "public")
    with public.step("published") as page:
        page.goto(f"{live_server.url}/public/?number=950")
        page.click("table.list a")
        page.wait_for_selector("text=根据代表意见，已增加停车位至五百个。")
        assert MOBILE not in page.content()
    public.close()
    assert Publication.objects.public().filter(reply__suggestion=suggestion).count() == 1
