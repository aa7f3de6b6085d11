"""Demo behaviour, interactions and follow-ups: summaries equal the events, times
within each customer's life, interactions by the owner."""

import json

import pytest

from kehu.customers import demo
from kehu.customers.demo_history import EPOCH
from kehu.customers.models import Customer
from kehu.engagement.models import (
    BehaviourEvent,
    EngagementSummary,
    FollowUpTask,
    Interaction,
    TaskStatus,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_engagement_summaries_equal_the_events():
    demo.load(300, seed=31)
    expected: dict[int, list] = {}
    for customer_id, moment in BehaviourEvent.objects.filter(customer__isnull=False).values_list(
        "customer_id", "occurred_at"
    ):
        figures = expected.setdefault(customer_id, [moment, 0])
        figures[0] = max(figures[0], moment)
        figures[1] += 1
    stored = {
        s.customer_id: [s.last_seen_at, s.event_count] for s in EngagementSummary.objects.all()
    }
    assert stored == expected
    assert BehaviourEvent.objects.filter(customer__isnull=True).exclude(anonymous_id="").exists()


def test_events_fall_within_each_customers_life_and_name_their_category():
    demo.load(300, seed=32)
    created = dict(Customer.objects.values_list("pk", "created_at"))
    types = set()
    for event in BehaviourEvent.objects.all():
        types.add(event.type)
        if event.customer_id:
            assert created[event.customer_id] <= event.occurred_at
        assert event.occurred_at < EPOCH and event.occurred_at <= event.received_at
        if event.type == "page_view":
            assert event.properties["category"] and event.properties["url"].startswith("/c/")
        json.dumps(event.properties)
    assert {"page_view", "add_to_cart", "checkout", "sign_up", "search"} <= types


def test_interactions_by_the_owner_and_follow_ups_in_every_state():
    demo.load(300, seed=33)
    customers = {c.pk: c for c in Customer.objects.all()}
    interactions = list(Interaction.objects.all())
    assert 2 * len(customers) < len(interactions) < 5 * len(customers)
    assert len({i.channel for i in interactions}) >= 6
    for interaction in interactions:
        customer = customers[interaction.customer_id]
        assert interaction.user_id == customer.owner_id
        assert customer.created_at < interaction.occurred_at < EPOCH
    tasks = list(FollowUpTask.objects.select_related("interaction"))
    assert {t.status for t in tasks} == set(TaskStatus.values)
    assert any(t.status == "open" and t.due_at < EPOCH for t in tasks)  # overdue
    assert any(t.status == "open" and t.due_at > EPOCH for t in tasks)  # coming up
    for task in tasks:
        owner = customers[task.customer_id].owner_id
        assert task.assignee_id == owner or (owner is None and task.assignee.username == "admin")
        assert (task.done_at is not None) == (task.status == "done")
        assert task.remind_at is None or task.remind_at < task.due_at
        if task.interaction_id:
            assert task.interaction.customer_id == task.customer_id
            assert task.interaction.occurred_at < task.due_at
