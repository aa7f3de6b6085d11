"""Kehu benchmarks: customer list, search and 360 page at scale.

    python bench/run.py --database-url sqlite:///var/bench.sqlite3 --customers 1000000
    python bench/run.py --database-url postgresql://postgres@127.0.0.1:5432/kehu_bench

Loads the deterministic demo data set if the database holds fewer customers than
asked (timing that load too), then times requests in-process through Django's
test client: server time from request to response, no network. Each job runs
``--requests`` times with varied parameters; the script prints p50, p95 and max
per job, the target, and each job's p95 as a ratio to a baseline measured in the
same run (the login page: a request that touches no customer data).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TARGETS_MS = {
    "list: filter + sort": 50,
    "list: filter + sort (sales rep)": 50,
    "list: segment or value + sort": 50,
    "api list: filter + sort": 50,
    "search: 2-character name": 100,
    "search: full name": 100,
    "search: pinyin initials": 100,
    "search: full pinyin": 100,
    "search: last 4 phone digits": 100,
    "customer 360 page": 100,
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("KEHU_DATABASE_URL"))
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    return parser.parse_args()


def setup_django(database_url: str | None):
    if database_url:
        os.environ["KEHU_DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    os.environ.setdefault("KEHU_VAR_DIR", str(ROOT / "var"))
    import django

    django.setup()
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


def ensure_data(customers: int) -> dict:
    from django.core.management import call_command

    from kehu.customers import demo
    from kehu.customers.models import Customer

    call_command("migrate", verbosity=0)
    have = Customer.all_objects.count()
    if have >= customers:
        return {"customers": have, "loaded": 0}
    started = time.perf_counter()
    totals = demo.load(customers - have, seed=1)
    return {
        "customers": customers,
        "loaded": totals["customers"],
        "load_seconds": round(time.perf_counter() - started, 1),
    }


def sample_inputs(rng: random.Random) -> dict:
    """Real names, phones and owners drawn from the data, so queries hit real rows."""
    from django.db.models import Max

    from kehu.accounts.models import User
    from kehu.core.normalize import phone_national_digits
    from kehu.core.pinyin import pinyin_full, pinyin_initials
    from kehu.customers.models import Customer, Tag

    top = Customer.objects.aggregate(m=Max("id"))["m"]
    ids = [rng.randint(1, top) for _ in range(600)]
    rows = list(
        Customer.objects.filter(pk__in=ids).values_list("id", "name", "phones", "kind")[:400]
    )
    people = [r for r in rows if r[3] == "person" and "\u4e00" <= r[1][0] <= "\u9fff"]
    return {
        "ids": [r[0] for r in rows],
        "two_char": [r[1][:2] for r in people],
        "full_names": [r[1] for r in people],
        "initials": [pinyin_initials(r[1]) for r in people],
        "pinyin": [pinyin_full(r[1]) for r in people],
        "phone4": [phone_national_digits(r[2][0])[-4:] for r in rows if r[2]],
        "owners": list(User.objects.filter(role="sales").values_list("id", flat=True)),
        "cities": list(Customer.objects.order_by().values_list("city", flat=True).distinct()[:30]),
        "tags": list(Tag.objects.values_list("name", flat=True)),
    }


def ensure_scores() -> None:
    """Segments and dimension values for the list filters: a run when none is done."""
    from kehu.core.changelog import Actor
    from kehu.segments import runs
    from kehu.segments.models import RunTrigger

    if not runs.full_runs().exists():
        runs.segment_run(actor=Actor.system(), trigger=RunTrigger.COMMAND, with_predictions=False)


def label_filters() -> list[tuple[str, str]]:
    """(filter, choice) for every label the latest run gave someone, rare and common."""
    from django.http import QueryDict

    from kehu.segments import runs
    from kehu.segments.views import list_filter

    found = []
    sizes = runs.full_runs().order_by("-started_at", "-id").first().stats["sizes"]
    for scheme, counts in sizes.items():
        found += [
            next(iter(QueryDict(list_filter(scheme, label)).items()))
            for label, n in counts.items()
            if n
        ]
    return found


def time_requests(client, make_path, n: int) -> list[float]:
    timings = []
    for i in range(n):
        path, params = make_path(i)
        started = time.perf_counter()
        response = client.get(path, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} {params} answered {response.status_code}")
        timings.append(elapsed)
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[index]


def main():
    args = parse_args()
    setup_django(args.database_url)
    from django.db import connection
    from django.test import Client

    from kehu.accounts.models import User

    data = ensure_data(args.customers)
    ensure_scores()
    rng = random.Random(args.seed)
    inputs = sample_inputs(rng)
    labels = label_filters()
    admin = User.objects.get(username="admin")
    rep = User.objects.get(pk=rng.choice(inputs["owners"]))
    as_admin, as_rep = Client(), Client()
    as_admin.force_login(admin)
    as_rep.force_login(rep)
    login_page = Client()
    statuses = ["active", "prospect", "lead", "inactive"]
    orderings = ["-updated_at", "name", "-created_at", "city"]

    def pick(key):
        return lambda i: rng.choice(inputs[key])

    def list_params(i):
        # Every filter meets every sort order: 16 combinations in turn.
        params = {"ordering": orderings[(i // 4) % len(orderings)]}
        choice = i % 4
        if choice == 0:
            params["status"] = rng.choice(statuses)
        elif choice == 1:
            params["city"] = rng.choice(inputs["cities"])
        elif choice == 2:
            params["tag"] = rng.choice(inputs["tags"])
        else:
            params["owner"] = rng.choice(inputs["owners"])
            params["status"] = rng.choice(statuses)
        return params

    def label_params(i):
        # Each label of each scheme in turn (a few hundred customers to half of
        # them), under the four sort orders; every fourth also by a rep.
        name, label = labels[i % len(labels)]
        params = {name: label, "ordering": orderings[(i // len(labels)) % len(orderings)]}
        if i % 4 == 3:
            params["owner"] = rng.choice(inputs["owners"])
        return params

    jobs = {
        "baseline: login page": (login_page, lambda i: ("/login/", {})),
        "list: filter + sort": (as_admin, lambda i: ("/customers/", list_params(i))),
        "list: filter + sort (sales rep)": (as_rep, lambda i: ("/customers/", list_params(i))),
        "api list: filter + sort": (as_admin, lambda i: ("/api/customers/", list_params(i))),
        "list: segment or value + sort": (as_admin, lambda i: ("/customers/", label_params(i))),
        "search: 2-character name": (
            as_admin,
            lambda i: ("/customers/", {"search": pick("two_char")(i)}),
        ),
        "search: full name": (
            as_admin,
            lambda i: ("/customers/", {"search": pick("full_names")(i)}),
        ),
        "search: pinyin initials": (
            as_admin,
            lambda i: ("/customers/", {"search": pick("initials")(i)}),
        ),
        "search: full pinyin": (as_admin, lambda i: ("/customers/", {"search": pick("pinyin")(i)})),
        "search: last 4 phone digits": (
            as_admin,
            lambda i: ("/customers/", {"search": pick("phone4")(i)}),
        ),
        "customer 360 page": (as_admin, lambda i: (f"/customers/{pick('ids')(i)}/", {})),
    }
    results = {}
    for name, (client, make_path) in jobs.items():
        time_requests(client, make_path, 5)  # warm caches
        timings = time_requests(client, make_path, args.requests)
        results[name] = {
            "p50_ms": round(statistics.median(timings), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
            "max_ms": round(max(timings), 1),
            "target_p95_ms": TARGETS_MS.get(name),
        }
    baseline = results["baseline: login page"]["p95_ms"]
    for row in results.values():
        row["p95_vs_baseline"] = round(row["p95_ms"] / baseline, 1) if baseline else None
        target = row["target_p95_ms"]
        row["meets_target"] = None if target is None else row["p95_ms"] <= target
    summary = {
        "database": connection.vendor,
        "requests_per_job": args.requests,
        "data": data,
        "results": results,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(
            f"database: {connection.vendor}; customers: {data['customers']:,}; "
            f"{args.requests} requests per job"
        )
        if data.get("loaded"):
            print(f"demo load of {data['loaded']:,} customers: {data['load_seconds']} s")
        print(f"{'job':36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'target':>7} {'x base':>7}")
        for name, row in results.items():
            target = row["target_p95_ms"]
            mark = "" if target is None else ("ok" if row["meets_target"] else "MISS")
            print(
                f"{name:36} {row['p50_ms']:8} {row['p95_ms']:8} {row['max_ms']:8} "
                f"{target or '':>7} {row['p95_vs_baseline']:7} {mark}"
            )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"customers-{connection.vendor}-{stamp}.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2)
    )
    return 0 if all(r["meets_target"] in (None, True) for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
