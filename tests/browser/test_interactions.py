"""Logging a call with a follow-up from the customer 360 page, then finishing it."""

import pytest
from playwright.sync_api import expect

from kehu.engagement.models import FollowUpTask, Interaction

from ..conftest import make_customer

pytestmark = pytest.mark.browser


def test_log_a_call_in_two_clicks_then_complete_the_follow_up(page_for, people):
    customer = make_customer(owner=people["sales"], name="何晓雯")
    page = page_for(people["sales"])
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("log-call").click()  # first click: the form, phone preselected
    expect(page.locator("#log-channel")).to_have_value("phone")
    page.fill("#log-subject", "确认报价")
    page.fill("#log-outcome", "下周签约")
    page.fill("#log-follow-up", "准备合同")
    page.fill("#log-follow-up-due", "2030-01-15T10:00")
    page.get_by_test_id("save-interaction").click()  # second click: saved

    expect(page.locator(".messages")).to_contain_text("Interaction logged")
    expect(page.locator("#interactions")).to_contain_text("确认报价")
    expect(page.locator("#interactions")).to_contain_text("准备合同")
    interaction = Interaction.objects.get()
    assert interaction.channel == "phone" and interaction.user == people["sales"]
    task = FollowUpTask.objects.get()
    assert task.title == "准备合同" and task.assignee == people["sales"]

    page.get_by_role("navigation").get_by_role("link", name="Follow-ups").click()
    upcoming = page.get_by_test_id("upcoming")
    expect(upcoming).to_contain_text("准备合同")
    upcoming.get_by_role("button", name="Done").click()
    expect(page.get_by_test_id("upcoming")).not_to_contain_text("准备合同")
    task.refresh_from_db()
    assert task.status == "done" and task.done_at is not None
