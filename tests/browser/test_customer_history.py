"""One customer's story in the browser: a call logged from the 360 page, a ticket
worked until it is overdue and then resolved, and the satisfaction survey that
follows, answered on a phone."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kehu.core.changelog import Actor
from kehu.engagement.models import Interaction
from kehu.service import survey_services
from kehu.service.models import SurveyResponse, Ticket, TicketCause

from ..conftest import make_customer

pytestmark = pytest.mark.browser

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def test_call_ticket_until_overdue_then_resolved_and_survey_on_a_phone(
    page_for, new_context, people, request
):
    # Browser tests flush the database between tests, migrations' rows included.
    TicketCause.objects.get_or_create(key="product_quality", defaults={"label": "Product quality"})
    customer = make_customer(owner=people["sales"], name="罗美玲")
    survey_services.survey_create(
        actor=Actor.system(),
        data={
            "name": "投诉回访",
            "title": "这次的处理您满意吗？",
            "questions": [
                {"kind": "csat", "prompt": "对处理结果的满意度"},
                {"kind": "nps", "prompt": "您会向朋友推荐我们吗？"},
                {"kind": "single", "prompt": "处理速度", "choices": ["很快", "一般", "太慢"]},
                {"kind": "text", "prompt": "还有什么想说的？", "required": False},
            ],
        },
    )

    # The rep logs the complaining call from the customer page, in two clicks.
    page = page_for(people["sales"])
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("log-call").click()
    page.fill("#log-subject", "来电投诉：收到的货破损")
    page.get_by_test_id("save-interaction").click()
    expect(page.locator("#interactions")).to_contain_text("来电投诉")
    assert Interaction.objects.get().channel == "phone"

    # … and opens a critical ticket for it: four hours to resolve.
    page.get_by_test_id("new-ticket").click()
    page.select_option("#ticket-type", "complaint")
    page.select_option("#ticket-severity", "critical")
    page.select_option("#ticket-cause", "product_quality")
    page.fill("#ticket-subject", "货物破损")
    page.get_by_test_id("open-ticket").click()
    expect(page.get_by_test_id("ticket-state")).to_have_text("New")
    ticket = Ticket.objects.get()
    assert ticket.due_at - ticket.opened_at == datetime.timedelta(hours=4)

    # Support takes it over and starts work.
    support = page_for(people["support"])
    support.goto(f"/tickets/{ticket.pk}/")
    moves = support.get_by_test_id("ticket-moves")
    moves.locator("select[name=assignee]").select_option(str(people["support"].pk))
    moves.locator("[data-move=assigned]").click()
    expect(support.get_by_test_id("ticket-state")).to_have_text("Assigned")
    support.get_by_test_id("ticket-moves").locator("[data-move=in_progress]").click()
    expect(support.get_by_test_id("ticket-state")).to_have_text("In progress")
    expect(support.get_by_test_id("ticket-overdue")).to_have_count(0)

    # Five hours pass: the SLA is broken and the ticket says so, here and on the customer page.
    Ticket.objects.filter(pk=ticket.pk).update(
        opened_at=timezone.now() - datetime.timedelta(hours=5),
        due_at=timezone.now() - datetime.timedelta(hours=1),
    )
    support.reload()
    expect(support.get_by_test_id("ticket-overdue")).to_be_visible()
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator(f"#tickets [data-ticket='{ticket.pk}']")).to_contain_text("overdue")

    # Resolved with the reply the customer got; no longer overdue.
    moves = support.get_by_test_id("ticket-moves")
    moves.locator("textarea[name=reply]").fill("已补发新货，并赠送优惠券致歉。")
    moves.locator("[data-move=resolved]").click()
    expect(support.get_by_test_id("ticket-state")).to_have_text("Resolved")
    expect(support.get_by_test_id("ticket-overdue")).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.reply == "已补发新货，并赠送优惠券致歉。" and ticket.resolved_at

    # Support asks how it went: a single-use link tied to the ticket.
    support.get_by_test_id("ticket-send-survey").click()
    message = support.locator(".messages").inner_text()
    link = message[message.index("http") :].split()[0]

    # The customer answers on a phone, in Chinese, by tapping.
    phone = new_context(locale="zh-CN", **PHONE).new_page()
    phone.goto(link)
    expect(phone.locator("h1")).to_have_text("这次的处理您满意吗？")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the answer page scrolls sideways on a phone ({width}px)"
    questions = phone.locator("fieldset")
    questions.nth(0).get_by_text("4", exact=True).tap()
    phone.get_by_role("button", name="提交").tap()  # the NPS question is still unanswered
    expect(questions.nth(1)).to_contain_text("请回答这个问题")
    expect(questions.nth(0).locator("input[value='4']")).to_be_checked()  # kept
    questions.nth(1).get_by_text("9", exact=True).tap()
    questions.nth(2).get_by_text("很快").tap()
    questions.nth(3).locator("textarea").fill("客服态度很好")
    phone.screenshot(path=str(request.config.rootpath / "test-results" / "survey-phone.png"))
    phone.get_by_role("button", name="提交").tap()
    expect(phone.get_by_test_id("survey-thanks")).to_be_visible()

    response = SurveyResponse.objects.get()
    assert (response.csat, response.nps, response.ticket_id) == (4, 9, ticket.pk)
    # The link is spent.
    phone.goto(link)
    expect(phone.get_by_test_id("survey-closed")).to_be_visible()

    # The rep sees the answer on the customer page and in its timeline.
    page.goto(f"/customers/{customer.pk}/")
    expect(page.locator("#surveys")).to_contain_text("CSAT 4/5")
