"""BG/NBD and Gamma-Gamma reproduce the published estimates on the CDNOW sample
(Fader, Hardie & Lee 2005), read from the copy of that data that the
``lifetimes`` wheel carries (its code is never imported)."""

import datetime
import importlib.metadata

import polars as pl
import pytest

from kehu.segments import analysis, predict
from kehu.segments.engine import EngineConfig

pytestmark = pytest.mark.skipif(not predict.available(), reason="kehu[predict] not installed")

# "Counting your customers the easy way" (2005): r, alpha, a, b; and
# "RFM and CLV: using iso-value curves" (2005): p, q, gamma (v).
PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}


def cdnow(name: str):
    return importlib.metadata.distribution("lifetimes").locate_file(f"lifetimes/datasets/{name}")


def assert_within_1_percent(fitted: dict, published: dict):
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=0.01), (name, fitted[name], value)


def test_bgnbd_fit_reproduces_the_published_cdnow_estimates():
    summary = pl.read_csv(str(cdnow("cdnow_customers_summary.csv")))
    frame = summary.select(
        pl.col("ID").cast(pl.String).alias("customer"),
        "frequency",
        "recency",
        "T",
        pl.lit(0.0).alias("monetary"),
    )
    fitted = predict.predict(frame, EngineConfig(time_unit="week"))
    assert_within_1_percent(fitted.bgnbd, PUBLISHED_BGNBD)
    p_alive = fitted.predictions["p_alive"]
    assert p_alive.min() > 0 and p_alive.max() <= 1
    # a customer who never came back is "alive" by the model's convention
    assert fitted.predictions.filter(pl.col("customer") == "3")["p_alive"].item() == 1.0


def test_analysis_of_the_cdnow_transactions_reproduces_the_summary_and_estimates(tmp_path):
    """From raw transactions (with the calibration end of the paper, 39 weeks):
    frequency on distinct days, recency and T in weeks agree with the summary
    that the papers used, and so do both fits."""
    text = cdnow("CDNOW_sample.txt").read_text()
    lines = [line.split() for line in text.splitlines() if line.strip()]
    source = tmp_path / "cdnow.csv"
    source.write_text(
        "客户,日期,金额\n" + "".join(f"{r[1]},{r[2]},{r[4]}\n" for r in lines), encoding="utf-8"
    )
    result = analysis.analyze(
        source,
        customer="客户",
        date="日期",
        amount="金额",
        config=EngineConfig(time_unit="week"),
        calibration_end=datetime.date(1997, 9, 30),
    )
    assert_within_1_percent(result.summary["bgnbd"], PUBLISHED_BGNBD)
    assert_within_1_percent(result.summary["gamma_gamma"], PUBLISHED_GAMMA_GAMMA)
    published = pl.read_csv(str(cdnow("cdnow_customers_summary_with_transactions.csv")))
    published = published.with_columns(pl.col("ID").cast(pl.String).str.zfill(4))
    ours = result.table.join(published, left_on="customer", right_on="ID")
    assert ours.height == 2357 == result.table.height
    assert (ours["frequency"] == ours["x"]).all()
    assert ((ours["recency"] - ours["t_x"]).abs() < 0.006).all()
    assert ((ours["T"] - ours["T_right"]).abs() < 0.006).all()
    assert ((ours["monetary"] - ours["zbar"]).abs() < 0.006).all()
    clv = result.table["clv"]
    assert clv.null_count() == 0 and clv.min() > 0
