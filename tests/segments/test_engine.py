"""RFM scores, the 11 segments, the eight classes and lifecycle stages agree
exactly with an independent pandas implementation written here, on generated
data with ties, single purchases, refunds only, zero amounts and rows outside
the window; and classification does not depend on row order."""

import datetime
import random

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.segments import engine
from kehu.segments.engine import EngineConfig

AS_OF = datetime.date(2026, 6, 30)


def generated(seed: int, customers: int = 400) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = []
    for n in range(customers):
        name = f"C{n:04d}"
        kind = rng.random()
        count = 1 if kind < 0.25 else rng.randint(1, 9)
        for _ in range(count):
            day = AS_OF - datetime.timedelta(days=rng.choice(range(0, 500, 7)))  # ties
            if rng.random() < 0.05:
                day = AS_OF + datetime.timedelta(days=rng.randint(1, 20))  # after as_of
            amount = rng.choice([0, 100, 100, 250, 990, *range(1000, 9000, 500)]) * 10_000
            if kind > 0.95:  # refunds only
                amount = -rng.choice([100, 250]) * 10_000
            elif rng.random() < 0.08:
                amount = -rng.choice([50, 100]) * 10_000
            rows.append((name, day, amount))
    return pd.DataFrame(rows, columns=["customer", "day", "amount"])


def reference(tx: pd.DataFrame, config: EngineConfig) -> pd.DataFrame:
    """The documented definitions, computed plainly, one customer at a time."""
    tx = tx[tx["day"] <= AS_OF]
    start = AS_OF - datetime.timedelta(days=config.window_days) if config.window_days else None
    rfm = {}
    for customer, rows in tx.groupby("customer"):
        window = rows if start is None else rows[rows["day"] > start]
        if window.empty:
            continue
        purchases = window[window["amount"] >= 0]
        last = purchases["day"].max() if len(purchases) else window["day"].max()
        rfm[customer] = {
            "R": (AS_OF - last).days,
            "F": len(purchases),
            "M": int(window["amount"].sum()),
        }
    table = pd.DataFrame.from_dict(rfm, orient="index")
    n = len(table)

    # A value's smallest rank, worst first, is 1 + how many customers are worse.
    others = list(table.itertuples())
    table["r_score"] = table.apply(
        lambda row: 1 + (5 * sum(row["R"] < o.R for o in others)) // n, axis=1
    )
    table["f_score"] = table.apply(
        lambda row: 1 + (5 * sum(row["F"] > o.F for o in others)) // n, axis=1
    )
    table["m_score"] = table.apply(
        lambda row: 1 + (5 * sum(row["M"] > o.M for o in others)) // n, axis=1
    )
    center = {"mean": pd.Series.mean, "median": pd.Series.median}[config.class_center]
    r_c, f_c, m_c = center(table["R"]), center(table["F"]), center(table["M"])
    table["rfm_segment"] = [
        segment(r, f) for r, f in zip(table.r_score, table.f_score, strict=True)
    ]
    table["rfm_class"] = [
        eight_class(r < r_c, f > f_c, m > m_c)
        for r, f, m in zip(table.R, table.F, table.M, strict=True)
    ]
    stages = {}
    for customer, rows in tx.groupby("customer"):
        purchases = rows[rows["amount"] >= 0]
        stages[customer] = stage(purchases["day"], config)
    table.attrs["stages"] = stages  # every customer with a row, scored or not
    return table


def segment(r: int, f: int) -> str:
    if r == 5 and f >= 4:
        return "champions"
    if r in (3, 4) and f >= 4:
        return "loyal"
    if r >= 4 and f in (2, 3):
        return "potential_loyalist"
    if r == 5 and f == 1:
        return "new"
    if r == 4 and f == 1:
        return "promising"
    if r == 3 and f == 3:
        return "need_attention"
    if r == 3 and f <= 2:
        return "about_to_sleep"
    if r <= 2 and f in (3, 4):
        return "at_risk"
    if r <= 2 and f == 5:
        return "cant_lose"
    if r == 2:
        return "hibernating"
    return "lost"


def eight_class(r_high: bool, f_high: bool, m_high: bool) -> str:
    importance = "important" if m_high else "general"
    kind = {(True, True): "value", (True, False): "develop", (False, True): "keep"}.get(
        (r_high, f_high), "retain"
    )
    return f"{importance}_{kind}"


def stage(days: pd.Series, config: EngineConfig):
    if days.empty:
        return None
    first, last = days.min(), days.max()
    if (AS_OF - first).days <= config.new_days:
        return "new"
    active, churn = config.active_days, config.churn_days
    distinct = days.nunique()
    if config.lifecycle_mode == "rhythm" and distinct >= 2:
        gap = max((last - first).days / (distinct - 1), 1.0)
        active, churn = gap * config.rhythm_active, gap * config.rhythm_churn
    since = (AS_OF - last).days
    return "active" if since <= active else "silent" if since <= churn else "churned"


def ours(tx: pd.DataFrame, config: EngineConfig) -> pd.DataFrame:
    frame = pl.DataFrame(
        {name: tx[name].tolist() for name in ("customer", "day", "amount")},
        schema={"customer": pl.String, "day": pl.Date, "amount": pl.Int64},
    )
    result = engine.classify(frame, as_of=AS_OF, config=config)
    return pd.DataFrame(result.to_dict(as_series=False)).set_index("customer")


CONFIGS = [
    EngineConfig(),
    EngineConfig(window_days=180, class_center="median"),
    EngineConfig(lifecycle_mode="rhythm", new_days=7, active_days=60, churn_days=120),
]


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("seed", [1, 2])
def test_rfm_segments_classes_and_lifecycle_match_pandas(seed, config):
    tx = generated(seed)
    expected = reference(tx, config)
    got = ours(tx, config)
    scored = got[got["rfm_recency_days"].notna()]
    assert sorted(scored.index) == sorted(expected.index)
    for column, theirs in [
        ("rfm_recency_days", "R"),
        ("rfm_frequency", "F"),
        ("rfm_monetary", "M"),
        ("r_score", "r_score"),
        ("f_score", "f_score"),
        ("m_score", "m_score"),
        ("rfm_segment", "rfm_segment"),
        ("rfm_class", "rfm_class"),
    ]:
        mine = scored[column].astype(object).to_dict()
        assert mine == expected[theirs].astype(object).to_dict(), column
    stages = {k: None if pd.isna(v) else v for k, v in got["lifecycle_stage"].items()}
    assert stages == expected.attrs["stages"]
    # the data has what the test is about
    assert (expected["F"] == 0).any() and (expected["M"] < 0).any()
    assert expected.duplicated(["R"]).any() and expected.duplicated(["M"]).any()
    assert set(expected["rfm_segment"]) >= {"champions", "lost", "new", "at_risk"}


def test_customers_outside_the_window_keep_a_stage_but_no_scores():
    tx = pd.DataFrame(
        [
            ("old", AS_OF - datetime.timedelta(days=400), 100_000),
            ("recent", AS_OF - datetime.timedelta(days=5), 100_000),
            ("future", AS_OF + datetime.timedelta(days=5), 100_000),
        ],
        columns=["customer", "day", "amount"],
    )
    got = ours(tx, EngineConfig(window_days=365))
    assert list(got.index) == ["old", "recent"]
    assert pd.isna(got.loc["old", "r_score"]) and got.loc["old", "lifecycle_stage"] == "churned"
    # the only customer scored: rank 1 of 1, score 1 + floor(5 * 0 / 1)
    assert got.loc["recent", "r_score"] == 1 and got.loc["recent", "lifecycle_stage"] == "new"


transactions = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", "e", "f", "张", "李"]),
        st.integers(0, 500).map(lambda d: AS_OF - datetime.timedelta(days=d)),
        st.sampled_from([-500_000, 0, 100_000, 100_000, 2_500_000, 10_000_000]),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows=transactions, seed=st.integers(0, 10**6))
def test_classification_is_deterministic_and_ignores_row_order(rows, seed):
    tx = pd.DataFrame(rows, columns=["customer", "day", "amount"])
    shuffled = tx.sample(frac=1, random_state=seed).reset_index(drop=True)
    for config in CONFIGS[:2]:
        first = ours(tx, config)
        pd.testing.assert_frame_equal(first, ours(shuffled, config))
        pd.testing.assert_frame_equal(first, ours(tx, config))


@settings(max_examples=40, deadline=None)
@given(rows=transactions)
def test_scores_agree_with_pandas_on_any_small_data(rows):
    tx = pd.DataFrame(rows, columns=["customer", "day", "amount"])
    expected = reference(tx, CONFIGS[0])
    got = ours(tx, CONFIGS[0])
    scored = got[got["rfm_recency_days"].notna()]
    for column in ["r_score", "f_score", "m_score", "rfm_segment", "rfm_class"]:
        assert scored[column].astype(object).to_dict() == expected[column].to_dict(), column


def test_config_rejects_contradictions():
    with pytest.raises(ValueError, match="active_days < churn_days"):
        EngineConfig(active_days=200, churn_days=100)
    with pytest.raises(ValueError, match="class_center"):
        EngineConfig(class_center="mode")


def test_rows_summed_per_day_with_their_count_classify_like_the_rows():
    """The database sends a customer's orders of one day as one row with a count."""
    tx = generated(3)
    tx = tx[tx["amount"] >= 0]
    summed = tx.groupby(["customer", "day"], as_index=False).agg(
        amount=("amount", "sum"), count=("amount", "size")
    )
    assert len(summed) < len(tx)
    frame = pl.DataFrame(
        {name: summed[name].tolist() for name in ("customer", "day", "amount", "count")},
        schema={"customer": pl.String, "day": pl.Date, "amount": pl.Int64, "count": pl.Int64},
    )
    for config in CONFIGS:
        by_day = engine.classify(frame, as_of=AS_OF, config=config)
        by_day = pd.DataFrame(by_day.to_dict(as_series=False)).set_index("customer")
        pd.testing.assert_frame_equal(by_day, ours(tx, config))


def reference_grades(tx: pd.DataFrame, scheme: engine.GradeScheme) -> dict:
    """Grades as docs/segments.md defines them, computed plainly."""
    table = reference(tx, EngineConfig())
    first = tx[(tx["day"] <= AS_OF) & (tx["amount"] >= 0)].groupby("customer")["day"].min()
    table["tenure"] = [(AS_OF - first[c]).days if c in first.index else 0 for c in table.index]
    n = len(table)
    rows = list(table.itertuples())

    def percentile(worse) -> pd.Series:
        below = table.apply(lambda row: sum(worse(o, row) for o in rows), axis=1)
        return 100 * below / (n - 1) if n > 1 else below * 0 + 100

    factor = {
        "recency": percentile(lambda o, row: row["R"] < o.R),
        "frequency": percentile(lambda o, row: row["F"] > o.F),
        "monetary": percentile(lambda o, row: row["M"] > o.M),
        "loyalty": percentile(lambda o, row: o.tenure < row["tenure"]),
    }
    total = sum(scheme.weights.values())
    score = sum(factor[k] * w / total for k, w in scheme.weights.items()).round(6)
    grades = {}
    for customer, value in score.items():
        if scheme.method == "cutoffs":
            grades[customer] = next((g for g, low in scheme.grades if value >= low), None)
        else:
            above = 100 * (score > value).sum() / n
            bound = 0
            for label, part in scheme.grades:
                bound += part
                if above < bound - 1e-9:
                    grades[customer] = label
                    break
            else:
                grades[customer] = scheme.grades[-1][0]
    return grades


SCHEMES = [
    engine.GradeScheme(
        "value",
        {"recency": 1, "frequency": 2, "monetary": 3, "loyalty": 0.5},
        "quantiles",
        (("A", 20), ("B", 30), ("C", 30), ("D", 20)),
    ),
    engine.GradeScheme(
        "tier", {"monetary": 1, "recency": 1}, "cutoffs", (("高", 70), ("中", 40), ("低", 0))
    ),
    # frequency alone: many customers share a score, and ties straddle the shares
    engine.GradeScheme("often", {"frequency": 1}, "quantiles", (("A", 10), ("B", 25), ("C", 65))),
]


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.key)
def test_value_grades_match_pandas(scheme):
    tx = generated(4, customers=250)
    frame = pl.DataFrame(
        {name: tx[name].tolist() for name in ("customer", "day", "amount")},
        schema={"customer": pl.String, "day": pl.Date, "amount": pl.Int64},
    )
    classified = engine.classify(frame, as_of=AS_OF, config=EngineConfig())
    graded = engine.grade(classified, [scheme], as_of=AS_OF)
    got = {
        c: g for c, g in graded.select("customer", f"grade_{scheme.key}").rows() if g is not None
    }
    expected = reference_grades(tx, scheme)
    assert got == expected
    labels = [label for label, _ in scheme.grades]
    assert set(got.values()) == set(labels)  # every grade is used on this data
    if scheme.key == "often":  # ties kept together: shares are not exact
        share_a = sum(g == "A" for g in got.values()) / len(got)
        assert share_a != 0.10


def test_grade_schemes_reject_contradictions():
    with pytest.raises(ValueError, match="add up to 100"):
        engine.GradeScheme("x", {"monetary": 1}, "quantiles", (("A", 50), ("B", 40)))
    with pytest.raises(ValueError, match="go down"):
        engine.GradeScheme("x", {"monetary": 1}, "cutoffs", (("A", 10), ("B", 50)))
    with pytest.raises(ValueError, match="one must be above 0"):
        engine.GradeScheme("x", {"monetary": 0}, "cutoffs", (("A", 0),))


def test_product_neighbours_match_a_plain_count():
    from kehu.segments.recommend import neighbours

    rng = random.Random(5)
    pairs = {(c, rng.choice([1, 1, 2, 3, 4, 5, 6, 7])) for c in range(300) for _ in range(3)}
    frame = pl.DataFrame(sorted(pairs), schema=["customer", "product"], orient="row")
    got = {(p, n): (t, s) for p, n, t, s in neighbours(frame, keep=3).iter_rows()}
    owners: dict[int, set] = {}
    for customer, product in pairs:
        owners.setdefault(product, set()).add(customer)
    for product in owners:
        ranked = sorted(
            (
                (len(owners[product] & owners[other]), other)
                for other in owners
                if other != product and owners[product] & owners[other]
            ),
            key=lambda t: (
                -round(t[0] / (len(owners[product]) * len(owners[t[1]])) ** 0.5, 9),
                t[1],
            ),
        )[:3]
        for together, other in ranked:
            similarity = together / (len(owners[product]) * len(owners[other])) ** 0.5
            assert got[(product, other)][0] == together
            assert got[(product, other)][1] == pytest.approx(similarity)
        assert len([k for k in got if k[0] == product]) == len(ranked)


@pytest.mark.parametrize("config", CONFIGS[:2])
def test_scoring_against_cut_points_reproduces_the_full_run(config):
    tx = generated(6)
    frame = pl.DataFrame(
        {name: tx[name].tolist() for name in ("customer", "day", "amount")},
        schema={"customer": pl.String, "day": pl.Date, "amount": pl.Int64},
    )
    full = engine.classify(frame, as_of=AS_OF, config=config)
    points = engine.cut_points(full, config)
    summary = engine.summarize(frame, as_of=AS_OF, config=config)
    again = engine.score_against(summary, points)
    columns = ["customer", "r_score", "f_score", "m_score", "rfm_segment", "rfm_class"]
    assert again.select(columns).equals(full.select(columns))
    # a value between the full run's values takes the lower score
    one = pl.DataFrame(
        {"customer": ["x"], "rfm_recency_days": [10**6], "rfm_frequency": [10**6],
         "rfm_monetary": [-(10**12)]}
    )  # fmt: skip
    scored = engine.score_against(one, points)
    assert scored.row(0, named=True)["r_score"] == 1 and scored["f_score"][0] == 5
    assert scored["m_score"][0] == 1
