"""Predictions per customer from BG/NBD (purchases, probability of being
active) and Gamma-Gamma (spend per purchase), and their lifetime value, with
pymc-marketing's CLV models fitted by maximum a posteriori under flat priors,
which gives the maximum-likelihood estimates of Fader, Hardie & Lee (2005).

pymc-marketing is the optional extra ``kehu[predict]`` (installed by default);
without it, ``available()`` is False and callers leave the predictions empty.
Inputs are the ``frequency``, ``recency``, ``T`` and ``monetary`` columns of
``engine.summarize``.
"""

import logging
import math
import warnings
from dataclasses import dataclass

import numpy as np
import polars as pl

from .engine import EngineConfig

MIN_CUSTOMERS = 10  # fewer cannot identify four parameters
DAYS_PER_MONTH = 30.4375


class PredictionError(Exception):
    """The data cannot support a fit (too few customers, no repeat purchases)."""


def available() -> bool:
    try:
        import pymc_marketing.clv  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Fitted:
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float] | None
    predictions: pl.DataFrame  # customer and the prediction columns


def _quiet():
    """pymc and pytensor report progress and compiler notes on their own."""
    for name in ("pymc", "pytensor", "pymc_marketing"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="pymc")
    warnings.filterwarnings("ignore", module="pytensor")
    warnings.filterwarnings("ignore", module="pymc_marketing")
    warnings.filterwarnings("ignore", module="arviz")


def fit_bgnbd(data) -> tuple[object, dict[str, float]]:
    """BG/NBD by MAP with flat priors on r, alpha, a, b; ``data`` a pandas frame
    with customer_id, frequency, recency, T."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel

    _quiet()
    model = BetaGeoModel(model_config={k: Prior("HalfFlat") for k in ("r", "alpha", "a", "b")})
    model.fit(data=data, method="map", progressbar=False)
    summary = model.fit_summary()
    params = {k: float(summary[k]) for k in ("r", "alpha", "a", "b")}
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise PredictionError(f"BG/NBD did not converge: {params}")
    return model, params


def fit_gamma_gamma(data) -> tuple[object, dict[str, float]]:
    """Gamma-Gamma by MAP with flat priors on p, q, v; ``data`` a pandas frame
    with customer_id, frequency (> 0) and monetary_value (> 0)."""
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import GammaGammaModel

    _quiet()
    model = GammaGammaModel(model_config={k: Prior("HalfFlat") for k in ("p", "q", "v")})
    model.fit(data=data, method="map", progressbar=False)
    summary = model.fit_summary()
    params = {k: float(summary[k]) for k in ("p", "q", "v")}
    if not all(math.isfinite(v) and v > 0 for v in params.values()):
        raise PredictionError(f"Gamma-Gamma did not converge: {params}")
    return model, params


def _point(array) -> np.ndarray:
    """A MAP fit has one chain and one draw: the values per customer."""
    return np.asarray(array.mean(("chain", "draw")).to_numpy(), dtype=float)


def predict(summary: pl.DataFrame, config: EngineConfig) -> Fitted:
    """Fit both models on the customers with a first purchase by the calibration
    end and predict for them: ``p_alive``, ``expected_purchases_<days>`` for each
    horizon, ``expected_spend`` (per purchase) and ``clv`` (over
    ``config.clv_months``, discounted monthly). Raises PredictionError when the
    data cannot support a fit."""
    import pandas as pd

    rows = summary.filter(pl.col("frequency").is_not_null()).select(
        "customer", "frequency", "recency", "T", "monetary"
    )
    if rows.height < MIN_CUSTOMERS:
        raise PredictionError(
            f"{rows.height} customers bought by the calibration end; at least "
            f"{MIN_CUSTOMERS} are needed to fit BG/NBD"
        )
    if rows["frequency"].sum() == 0:
        raise PredictionError("no customer bought twice: BG/NBD cannot be fitted")
    data = pd.DataFrame(
        {
            "customer_id": np.arange(rows.height),
            "frequency": rows["frequency"].to_numpy().astype(float),
            "recency": rows["recency"].to_numpy(),
            "T": rows["T"].to_numpy(),
        }
    )
    bg_model, bg_params = fit_bgnbd(data)
    columns = {"customer": rows["customer"]}
    columns["p_alive"] = _point(bg_model.expected_probability_alive(data))
    for days in config.horizons:
        future = days / config.days_per_unit
        columns[f"expected_purchases_{days}"] = _point(
            bg_model.expected_purchases(data, future_t=future)
        )
    gg_params = None
    spend = np.full(rows.height, np.nan)
    clv = np.full(rows.height, np.nan)
    repeat = (data["frequency"] > 0) & (rows["monetary"].to_numpy() > 0)
    if repeat.sum() >= MIN_CUSTOMERS:
        gg_data = data.assign(monetary_value=rows["monetary"].to_numpy())
        try:
            gg_model, gg_params = fit_gamma_gamma(gg_data[repeat])
        except PredictionError:
            gg_model = None
        if gg_model is not None:
            spend = _point(gg_model.expected_customer_spend(data=gg_data))
            clv = _point(
                gg_model.expected_customer_lifetime_value(
                    transaction_model=bg_model,
                    data=gg_data,
                    future_t=config.clv_months,
                    discount_rate=config.monthly_discount,
                    time_unit="W" if config.time_unit == "week" else "D",
                )
            )
    columns["expected_spend"] = spend
    columns["clv"] = clv
    return Fitted(bg_params, gg_params, pl.DataFrame(columns))
