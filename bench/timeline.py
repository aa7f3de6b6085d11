"""Kehu benchmark: the customer timeline for a customer with 100,000 events.

    python bench/timeline.py --database-url postgresql://postgres@127.0.0.1:5432/kehu_bench

Gives one customer ``--events`` behaviour events (loaded once, through the batch
service), then times ``--requests`` first pages of
``GET /api/customers/{id}/timeline/`` in-process (all kinds, and events,
interactions or orders alone in turn), a page deep in the events through its
cursor, and the customer's 360 page (with its behaviour summary over 90 days).
Prints p50 and p95 against the target and as a ratio to the login
page measured in the same run.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET_P95_MS = 100


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("KEHU_DATABASE_URL"))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    return parser.parse_args()


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))]


def main():
    args = parse_args()
    if args.database_url:
        os.environ["KEHU_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    os.environ.setdefault("KEHU_VAR_DIR", str(ROOT / "var"))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from kehu.accounts.models import User
    from kehu.core.changelog import Actor
    from kehu.customers import services as customer_services
    from kehu.customers.models import Customer
    from kehu.engagement import services as engagement_services
    from kehu.engagement.models import BehaviourEvent

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    admin = User.objects.filter(is_superuser=True).first() or User.objects.get(username="admin")
    customer = Customer.objects.filter(name="时间线基准客户").first()
    if customer is None:
        customer = customer_services.customer_create(
            actor=Actor.system(), data={"name": "时间线基准客户", "phones": ["13900000000"]}
        )
    have = BehaviourEvent.objects.filter(customer=customer).count()
    rng = random.Random(5)
    start = timezone.now() - time_window()
    loaded = 0
    started = time.perf_counter()
    while have + loaded < args.events:
        n = min(10_000, args.events - have - loaded)
        batch = [
            {
                "external_id": f"tl-bench-{customer.pk}-{have + loaded + i}",
                "customer": customer.pk,
                "type": rng.choice(["page_view", "page_view", "click", "search"]),
                "occurred_at": (start + rng.random() * time_window()).isoformat(),
                "properties": {"url": f"/p/{rng.randint(1, 999)}"},
            }
            for i in range(n)
        ]
        engagement_services.event_batch_ingest(actor=Actor.system(), events=batch)
        loaded += n
    load_seconds = time.perf_counter() - started

    client = Client()
    client.force_login(admin)
    anonymous = Client()
    path = f"/api/customers/{customer.pk}/timeline/"
    kinds = [None, "event", "interaction", "order", "event,change"]

    def timed(get):
        timings = []
        for i in range(args.requests + 5):
            began = time.perf_counter()
            response = get(i)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise SystemExit(f"answered {response.status_code}")
            if i >= 5:
                timings.append(elapsed)
        return timings

    baseline = timed(lambda i: anonymous.get("/login/"))
    first = timed(
        lambda i: client.get(path, {"kind": kinds[i % len(kinds)]} if kinds[i % len(kinds)] else {})
    )
    cursor = None
    for _ in range(20):  # 20 pages of 50 into the events
        body = client.get(
            path, {"kind": "event", "cursor": cursor} if cursor else {"kind": "event"}
        ).json()
        cursor = body["next_cursor"]
    deep = timed(lambda i: client.get(path, {"kind": "event", "cursor": cursor}))
    page_360 = timed(lambda i: client.get(f"/customers/{customer.pk}/"))
    base_p95 = percentile(baseline, 0.95)
    print(
        f"database: {connection.vendor}; customer {customer.pk} with "
        f"{have + loaded:,} events (loaded {loaded:,} in {load_seconds:.1f} s)"
    )
    for name, values in (
        ("first page", first),
        ("page 21 (cursor)", deep),
        ("360 page itself", page_360),
    ):
        p95 = percentile(values, 0.95)
        print(
            f"timeline {name:18} p50 {statistics.median(values):6.1f} ms  p95 {p95:6.1f} ms  "
            f"target {TARGET_P95_MS}  x base {p95 / base_p95:5.1f}  "
            f"{'ok' if p95 <= TARGET_P95_MS else 'MISS'}"
        )
    print(f"login page baseline p95 {base_p95:.1f} ms")
    return 0 if percentile(first, 0.95) <= TARGET_P95_MS else 1


def time_window():
    import datetime

    return datetime.timedelta(days=365)


if __name__ == "__main__":
    sys.exit(main())
