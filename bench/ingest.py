"""Kehu benchmark: order and event ingestion through the batch APIs.

    python bench/ingest.py --database-url postgresql://postgres@127.0.0.1:5432/kehu_bench
    python bench/ingest.py --what events --orders 10000 --database-url …

With ``--what events`` it posts behaviour events (``--orders`` per batch) to
``POST /api/events/batch/`` instead, and counts events per second.

Posts ``--batches`` batches of ``--orders`` orders (1–5 lines each, ~3 on average)
to ``POST /api/orders/batch/`` in-process through Django's test client, as an
administrator, against customers already in the database (``kehu demo`` or
bench/run.py loads them). Prints order lines per second end to end (JSON parsing,
validation, inserts, change log, purchase figures), the same for re-sending every
batch (all duplicates), and, as a baseline, lines per second for inserting the
same lines with one bulk ``INSERT`` into a scratch table in the same process.

One more batch goes first and is not counted: it pays for what a server process
does once (loading the URL configuration, translations, the first queries' plans).
With ``--clients N``, N threads post the batches at the same time, each with its
own connection, as N workers of a server would serve N integrators; the figure is
all lines over the wall time.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGET_LINES_PER_S = 20_000
TARGET_EVENTS_PER_S = 10_000
EVENT_TYPES = ["page_view"] * 6 + ["click"] * 3 + ["add_to_cart", "search", "download"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("KEHU_DATABASE_URL"))
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--orders", type=int, default=2000, help="orders per batch")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--what", choices=["orders", "events"], default="orders")
    parser.add_argument("--clients", type=int, default=1, help="concurrent senders")
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def make_batches(args, customer_ids: list[int], skus: list[str]) -> list[dict]:
    rng = random.Random(args.seed)
    run = f"{int(time.time())}-{rng.randrange(10**6)}"
    batches = []
    for b in range(args.batches + 1):  # the first is the uncounted warm-up
        orders = []
        for n in range(args.orders):
            lines = [
                {
                    "sku": rng.choice(skus),
                    "quantity": rng.randint(1, 4),
                    "unit_price": f"{rng.randint(500, 99900) / 100:.2f}",
                    "discount": "0" if rng.random() < 0.8 else "1.00",
                }
                for _ in range(rng.choice([1, 1, 2, 3, 3, 4, 5, 5]))
            ]
            day = rng.randint(1, 28)
            orders.append(
                {
                    "external_id": f"bench-{run}-{b}-{n}",
                    "customer": rng.choice(customer_ids),
                    "ordered_at": f"2026-{rng.randint(1, 12):02d}-{day:02d}T10:00:00+08:00",
                    "currency": "CNY",
                    "lines": lines,
                }
            )
        batches.append({"orders": orders})
    return batches


def make_event_batches(args, customer_ids: list[int]) -> list[dict]:
    rng = random.Random(args.seed)
    run = f"{int(time.time())}-{rng.randrange(10**6)}"
    categories = ["茶叶", "茶具", "礼盒", "咖啡", "点心", "会员"]
    return [
        {
            "events": [
                {
                    "external_id": f"bench-ev-{run}-{b}-{n}",
                    "customer": rng.choice(customer_ids),
                    "type": rng.choice(EVENT_TYPES),
                    "occurred_at": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                    f"T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+08:00",
                    "properties": {
                        "url": f"/p/{rng.randint(1, 5000)}",
                        "category": rng.choice(categories),
                    },
                }
                for n in range(args.orders)
            ]
        }
        for b in range(args.batches + 1)  # the first is the uncounted warm-up
    ]


def baseline_lines_per_s(batches) -> float:
    """Plain bulk INSERT of the same line values into a scratch table."""
    from django.db import connection, transaction

    if "events" in batches[0]:
        rows = [(n, e["type"], 1, 0, 0) for batch in batches for n, e in enumerate(batch["events"])]
    else:
        rows = [
            (n, line["sku"], line["quantity"], line["unit_price"], line["discount"])
            for batch in batches
            for n, order in enumerate(batch["orders"])
            for line in order["lines"]
        ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_lines (order_no integer, sku varchar(64),"
            " quantity numeric(12,3), unit_price numeric(14,2), discount numeric(14,2))"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), 5000):
            cursor.executemany(
                "INSERT INTO bench_lines VALUES (%s, %s, %s, %s, %s)", rows[start : start + 5000]
            )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_lines")
    return len(rows) / elapsed


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
    from django.db import connection, connections
    from django.test import Client

    from kehu.accounts.models import User
    from kehu.core.changelog import Actor
    from kehu.customers.models import Customer
    from kehu.sales import services
    from kehu.sales.models import Product

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    admin = User.objects.filter(is_superuser=True).first() or User.objects.get(username="admin")
    skus = [f"BENCH-{i:03d}" for i in range(200)]
    for sku in skus:
        if not Product.objects.filter(sku=sku).exists():
            services.product_create(
                actor=Actor.system(), data={"sku": sku, "name": sku, "list_price": "10.00"}
            )
    customer_ids = list(Customer.objects.order_by("?").values_list("pk", flat=True)[:50_000])
    if not customer_ids:
        raise SystemExit("no customers: load them first (kehu demo or bench/run.py)")
    if args.what == "events":
        batches = make_event_batches(args, customer_ids)
        path, target, unit = "/api/events/batch/", TARGET_EVENTS_PER_S, "events"
    else:
        batches = make_batches(args, customer_ids, skus)
        path, target, unit = "/api/orders/batch/", TARGET_LINES_PER_S, "order lines"
    warm_up, batches = batches[0], batches[1:]
    if args.what == "events":
        lines = sum(len(b["events"]) for b in batches)
    else:
        lines = sum(len(o["lines"]) for b in batches for o in b["orders"])
    bodies = [json.dumps(b) for b in batches]

    clients = [Client() for _ in range(args.clients)]
    for client in clients:
        client.force_login(admin)

    def post_all(client, share: list[str]) -> None:
        try:
            for body in share:
                response = client.post(path, body, content_type="application/json")
                if response.status_code != 200:
                    raise SystemExit(
                        f"batch answered {response.status_code}: {response.content[:300]}"
                    )
                result = response.json()
                if result["rejected"]:
                    raise SystemExit(f"rejected: {result['rejected'][:3]}")
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()

    def send_all() -> float:
        started = time.perf_counter()
        if args.clients == 1:
            post_all(clients[0], bodies)
        else:
            shares = [bodies[n :: args.clients] for n in range(args.clients)]
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(post_all, clients, shares))
        return time.perf_counter() - started

    post_all(clients[0], [json.dumps(warm_up)])
    first = send_all()
    again = send_all()
    baseline = baseline_lines_per_s(batches)
    summary = {
        "database": connection.vendor,
        "what": args.what,
        "clients": args.clients,
        "items": args.batches * args.orders,
        "rows": lines,
        "ingest_seconds": round(first, 2),
        "rows_per_s": round(lines / first),
        "resend_seconds": round(again, 2),
        "baseline_insert_rows_per_s": round(baseline),
        "ratio_to_baseline": round((lines / first) / baseline, 2),
        "target_rows_per_s": target,
    }
    summary["meets_target"] = summary["rows_per_s"] >= target
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"database: {summary['database']}; {summary['items']:,} {args.what}, "
            f"{lines:,} {unit} in {args.batches} batches from {args.clients} client(s)"
        )
        print(
            f"ingest:    {summary['ingest_seconds']} s = {summary['rows_per_s']:,} {unit}/s "
            f"(target {target:,}) {'ok' if summary['meets_target'] else 'MISS'}"
        )
        print(f"re-send:   {summary['resend_seconds']} s (all duplicates)")
        print(
            f"baseline:  {summary['baseline_insert_rows_per_s']:,} rows/s plain INSERT; "
            f"ingest is {summary['ratio_to_baseline']}x of it"
        )
    return 0 if summary["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
