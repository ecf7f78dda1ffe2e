"""Forecasting models, backtest and recommendation on the synthetic series (the issue's acceptance criteria)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasting.history import WEEK_HOURS
from forecasting.models import BASELINE, HistoryTooShortError, forecast, required_hours, seasonal_naive, smape
from forecasting.recommend import Capacity, recommend
from forecasting.synthetic import synthetic_rates
from mlserve.render import validate
from tests.helpers import ROOT

START_HOUR = 490_000  # a Monday 16:00 UTC; any hour works
HEADROOM = 0.20
#: The chosen model's backtest sMAPE must be at most this share of the seasonal naive's.
MARGIN = 0.8


@pytest.fixture(scope="module")
def held_out():
    """Four weeks of synthetic traffic; the models see three, the last week is held out."""
    series = synthetic_rates(START_HOUR, 4 * WEEK_HOURS, level=200.0, seed=7)
    train = slice(0, 3 * WEEK_HOURS)
    result = forecast(series.rates[train], series.hours[train], WEEK_HOURS, folds=2)
    return series, result, series.rates[3 * WEEK_HOURS :]


def test_chosen_model_beats_seasonal_naive_by_the_margin(held_out):
    _, result, actual = held_out
    chosen, naive = result.scores[result.chosen], result.scores[BASELINE]
    assert result.chosen != BASELINE
    assert chosen.smape <= MARGIN * naive.smape, {n: s.smape for n, s in result.scores.items()}
    assert chosen.mase < naive.mase
    # Every candidate was scored on two folds of the same hours.
    assert all(s.error is None and len(s.folds) == 2 for s in result.scores.values())
    # and the held-out week agrees: the p50 forecast is closer than last week's traffic repeated
    assert smape(actual, result.quantiles[0.5]) < smape(actual, held_out[0].rates[2 * WEEK_HOURS : 3 * WEEK_HOURS])


def test_quantiles_are_ordered_and_cover_the_held_out_week(held_out):
    _, result, actual = held_out
    q50, q95, q99 = (result.quantiles[q] for q in (0.5, 0.95, 0.99))
    assert (q50 <= q95).all() and (q95 <= q99).all() and (q99 > q50).any()
    assert np.mean(actual <= q99) >= 0.9
    assert np.mean(actual <= q50) == pytest.approx(0.5, abs=0.2)


def test_bounds_cover_the_held_out_p99_with_no_more_than_the_headroom(held_out):
    _, result, actual = held_out
    env = validate(ROOT, "prod")
    spec = env.models["review-sentiment"]  # scales on requests-per-second, 40 per replica
    rec = recommend("review-sentiment", spec, env.settings, result, Capacity(40.0, "test"), HEADROOM)
    p99 = float(np.quantile(actual, 0.99))
    top = rec.max_replicas * 40.0
    assert top >= p99, (rec, p99)
    assert top <= p99 * (1 + HEADROOM) + 40.0, (rec, p99)  # the headroom, plus rounding up to a whole replica
    trough = float(actual.min())
    assert rec.min_replicas == max(2, math.ceil(rec.trough_p50 * (1 + HEADROOM) / 40.0))
    assert rec.min_replicas * 40.0 >= trough  # the quietest hour is served by minReplicas
    assert rec.min_replicas < rec.max_replicas


def test_gpu_model_gets_gpus_and_monthly_cost_from_the_capacity_planner(held_out):
    _, result, _ = held_out
    env = validate(ROOT, "prod")
    spec = env.models["llama3-70b"]  # 2 H100 per replica (tensor parallelism 2), Karpenter on-demand
    rec = recommend("llama3-70b", spec, env.settings, result, Capacity(50.0, "test"), HEADROOM)
    cost = rec.cost_recommended
    assert cost is not None and cost.accelerator == "nvidia-h100"
    assert cost.gpus_min == 2 * rec.min_replicas and cost.gpus_max == 2 * rec.max_replicas
    assert cost.monthly_usd_min is not None and 0 < cost.monthly_usd_min < cost.monthly_usd_max
    assert rec.cost_now is not None and rec.cost_now.gpus_max == 2 * spec.scaling.max_replicas


def test_history_shorter_than_two_seasons_plus_folds_is_refused_with_the_reason():
    series = synthetic_rates(START_HOUR, 10 * 24)
    with pytest.raises(
        HistoryTooShortError, match=r"covers 240 h \(10.0 days\).*two of them \(336 h\).*Refusing to extrapolate"
    ):
        forecast(series.rates, series.hours, WEEK_HOURS, folds=3)
    assert required_hours(3) == 2 * WEEK_HOURS + 2 * 24 + 24


def test_flat_series_is_forecast_as_its_constant_without_fitting():
    hours = np.arange(START_HOUR, START_HOUR + 24 * 5)  # too short for the models, and no need for them
    result = forecast(np.full(len(hours), 12.5), hours, 48)
    assert result.chosen == "constant" and result.scores == {}
    assert all((q == 12.5).all() for q in result.quantiles.values())
    assert "flat series" in result.notes[0]


def test_zero_traffic_scores_without_dividing_by_zero():
    assert smape(np.zeros(5), np.zeros(5)) == 0.0
    assert smape(np.zeros(2), np.array([0.0, 1.0])) == 100.0


def test_the_lowest_backtest_smape_wins_and_a_failing_candidate_is_reported_not_chosen():
    series = synthetic_rates(START_HOUR, 3 * WEEK_HOURS, seed=2)
    truth = dict(zip(series.hours.tolist(), series.rates.tolist(), strict=True))

    def oracle(y, hours, horizon):  # knows the backtest's answers: must win every fold
        return np.array([truth.get(int(hours[-1]) + 1 + k, y[-1]) for k in range(horizon)])

    def broken(y, hours, horizon):
        raise ValueError("singular matrix\nmore detail")

    candidates = {BASELINE: seasonal_naive, "broken": broken, "oracle": oracle}
    result = forecast(series.rates, series.hours, 24, folds=2, candidates=candidates)
    assert result.chosen == "oracle" and result.scores["oracle"].smape == 0.0
    assert result.scores["broken"].error == "singular matrix"
    assert result.notes == ("broken failed in the backtest: singular matrix",)
