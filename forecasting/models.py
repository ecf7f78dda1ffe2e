"""Forecasting models, rolling-origin backtest and the choice of one model per series.

Hourly series with a daily and a weekly season. Candidates (each a function ``(y, hours, horizon) -> forecast``):

- ``seasonal-naive``: the same hour one week earlier (the baseline every other model has to beat);
- ``arima``: regression with ARIMA(1,0,0) errors (statsmodels): log traffic = trend + weekday + daily Fourier terms
  (their shape allowed to differ on weekends) + an autoregressive error. A seasonal ARIMA with a 168-hour season
  (SARIMA(p,d,q)(P,D,Q)168) is the textbook form, but statsmodels needs minutes per fit at that period; the harmonic
  regression carries the same two seasons in a second;
- ``ets``: Holt-Winters exponential smoothing (statsmodels), damped additive trend, additive weekly season on log
  traffic (multiplicative on traffic);
- ``svr``: support vector regression (scikit-learn, RBF kernel) of detrended log traffic on the values one day and
  one week earlier and calendar features (hour of day as Fourier terms, day of week), forecast a day at a time.

Traffic is modelled as log(1 + requests/s): its seasons are multiplicative. Times are UTC hours; a daylight-saving
shift moves the local daily peak by an hour for part of the year, which the residual quantiles absorb.

The backtest: ``folds`` origins a day apart ending at the last hour, each model fit on everything before its origin
and scored on the next ``min(horizon, room)`` hours: sMAPE (percent) and MASE (scaled by the in-sample MAE of the
weekly seasonal naive). The model with the lowest mean sMAPE wins; its forecast's quantiles (p50, p95, p99) come
from the log errors of its backtest forecasts (empirical, pooled over folds and lead times).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .history import DAY_HOURS, WEEK_HOURS

#: Two weekly seasons to learn from (the longest season the models use), before the first backtest origin.
MIN_TRAIN_HOURS = 2 * WEEK_HOURS
#: The backtest scores at least one day per fold.
MIN_TEST_HOURS = DAY_HOURS
FOLD_SPACING_HOURS = DAY_HOURS
QUANTILES = (0.5, 0.95, 0.99)

Forecaster = Callable[[np.ndarray, np.ndarray, int], np.ndarray]


def _log(y: np.ndarray) -> np.ndarray:
    return np.log1p(np.maximum(y, 0.0))


def _exp(z: np.ndarray) -> np.ndarray:
    return np.maximum(np.expm1(z), 0.0)


def _weekday(hours: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 (1970-01-01 was a Thursday)."""
    return (hours // DAY_HOURS + 3) % 7


def _fourier(hours: np.ndarray, period: int, harmonics: int) -> np.ndarray:
    phase = 2 * np.pi * (hours % period) / period
    return np.column_stack([f(k * phase) for k in range(1, harmonics + 1) for f in (np.sin, np.cos)])


def seasonal_naive(y: np.ndarray, hours: np.ndarray, horizon: int) -> np.ndarray:
    last_week = y[-WEEK_HOURS:]
    return np.resize(last_week, horizon).astype(float)


def _calendar_design(hours: np.ndarray, origin: int) -> np.ndarray:
    weekday = _weekday(hours)
    weekend = (weekday >= 5).astype(float)[:, None]
    daily = _fourier(hours, DAY_HOURS, 4)
    return np.column_stack(
        [np.ones(len(hours)), (hours - origin) / WEEK_HOURS, np.eye(7)[weekday][:, 1:], daily, daily * weekend]
    )


def arima(y: np.ndarray, hours: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.arima.model import ARIMA

    z = _log(y)
    future = hours[-1] + 1 + np.arange(horizon)
    design = _calendar_design(np.concatenate([hours, future]), int(hours[0]))
    beta = np.linalg.lstsq(design[: len(y)], z, rcond=None)[0]
    residual = z - design[: len(y)] @ beta
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ARIMA(residual, order=(1, 0, 0), trend="n").fit()
    return _exp(design[len(y) :] @ beta + fitted.forecast(horizon))


def ets(y: np.ndarray, hours: np.ndarray, horizon: int) -> np.ndarray:
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ExponentialSmoothing(
            _log(y),
            trend="add",
            damped_trend=True,
            seasonal="add",
            seasonal_periods=WEEK_HOURS,
            initialization_method="heuristic",
        ).fit()
    return _exp(np.asarray(fitted.forecast(horizon)))


def _svr_features(z: np.ndarray, index: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return np.column_stack(
        [z[index - WEEK_HOURS], z[index - DAY_HOURS], _fourier(hours, DAY_HOURS, 3), np.eye(7)[_weekday(hours)]]
    )


def svr(y: np.ndarray, hours: np.ndarray, horizon: int) -> np.ndarray:
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    n = len(y)
    logy = _log(y)
    t = np.arange(n + horizon, dtype=float)
    slope, intercept = np.polyfit(t[:n], logy, 1)
    z = np.concatenate([logy - (intercept + slope * t[:n]), np.zeros(horizon)])
    all_hours = np.concatenate([hours, hours[-1] + 1 + np.arange(horizon)])
    train = np.arange(WEEK_HOURS, n)
    features = _svr_features(z, train, all_hours[train])
    scaler = StandardScaler().fit(features)
    model = SVR(C=3.0, epsilon=0.02).fit(scaler.transform(features), z[train])
    for start in range(n, n + horizon, DAY_HOURS):  # a day at a time: the one-day lag is then always known
        block = np.arange(start, min(start + DAY_HOURS, n + horizon))
        z[block] = model.predict(scaler.transform(_svr_features(z, block, all_hours[block])))
    return _exp(z[n:] + intercept + slope * t[n:])


CANDIDATES: dict[str, Forecaster] = {"seasonal-naive": seasonal_naive, "arima": arima, "ets": ets, "svr": svr}
BASELINE = "seasonal-naive"
DESCRIPTIONS = {
    "seasonal-naive": "seasonal naive (same hour a week earlier)",
    "arima": "ARIMA(1,0,0) errors on a trend + weekday + daily Fourier regression",
    "ets": "Holt-Winters ETS (damped trend, weekly season)",
    "svr": "SVR on day/week lags and calendar features",
    "constant": "constant (flat series)",
}


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent; an hour where both are 0 counts as exact."""
    denominator = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(forecast - actual), denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return float(100 * ratio.mean())


def mase(actual: np.ndarray, forecast: np.ndarray, train: np.ndarray) -> float:
    """Mean absolute error over the in-sample MAE of the weekly seasonal naive."""
    scale = float(np.mean(np.abs(train[WEEK_HOURS:] - train[:-WEEK_HOURS])))
    error = float(np.mean(np.abs(actual - forecast)))
    if scale == 0:
        return 0.0 if error == 0 else math.inf
    return error / scale


@dataclass(frozen=True)
class Fold:
    origin: int
    """Index of the first forecast hour."""
    forecast: np.ndarray


@dataclass(frozen=True)
class Score:
    model: str
    smape: float
    mase: float
    folds: tuple[Fold, ...]
    log_errors: np.ndarray
    error: str | None = None
    """Why the model could not be scored (an exception in a fit), else None."""


@dataclass(frozen=True)
class Forecast:
    chosen: str
    scores: dict[str, Score]
    quantiles: dict[float, np.ndarray]
    """p50, p95, p99 per future hour (requests/s)."""
    hours: np.ndarray
    """Absolute hour index of each future hour."""
    test_hours: int
    """Hours each backtest fold scored."""
    notes: tuple[str, ...]


class HistoryTooShortError(ValueError):
    """The history cannot support the forecast; the message says why."""


def required_hours(folds: int) -> int:
    return MIN_TRAIN_HOURS + (folds - 1) * FOLD_SPACING_HOURS + MIN_TEST_HOURS


def backtest_plan(n: int, horizon: int, folds: int) -> tuple[list[int], int]:
    """Fold origins (oldest first) and the hours each fold scores."""
    need = required_hours(folds)
    if n < need:
        raise HistoryTooShortError(
            f"history covers {n} h ({n / DAY_HOURS:.1f} days); the models learn a weekly season and need two of them "
            f"({MIN_TRAIN_HOURS} h) before the first of {folds} backtest folds, plus {need - MIN_TRAIN_HOURS} h to "
            f"score them: at least {need} h ({need / DAY_HOURS:.1f} days). Refusing to extrapolate"
        )
    test = min(horizon, n - MIN_TRAIN_HOURS - (folds - 1) * FOLD_SPACING_HOURS)
    origins = [n - test - k * FOLD_SPACING_HOURS for k in range(folds)]
    return sorted(origins), test


def _score(name: str, fn: Forecaster, y: np.ndarray, hours: np.ndarray, origins: list[int], test: int) -> Score:
    folds: list[Fold] = []
    smapes: list[float] = []
    mases: list[float] = []
    errors: list[np.ndarray] = []
    try:
        for origin in origins:
            forecast = np.asarray(fn(y[:origin], hours[:origin], test), dtype=float)
            if forecast.shape != (test,) or not np.isfinite(forecast).all():
                raise ValueError("non-finite forecast")
            actual = y[origin : origin + test]
            folds.append(Fold(origin, forecast))
            smapes.append(smape(actual, forecast))
            mases.append(mase(actual, forecast, y[:origin]))
            errors.append(_log(actual) - _log(forecast))
    except (ValueError, np.linalg.LinAlgError) as exc:
        return Score(name, math.inf, math.inf, (), np.zeros(0), error=str(exc).splitlines()[0][:120])
    return Score(name, float(np.mean(smapes)), float(np.mean(mases)), tuple(folds), np.concatenate(errors))


def is_flat(y: np.ndarray) -> bool:
    return bool(np.ptp(y) <= 1e-9 * max(1.0, float(np.abs(y).max())))


def forecast(
    y: np.ndarray, hours: np.ndarray, horizon: int, folds: int = 3, candidates: dict[str, Forecaster] | None = None
) -> Forecast:
    """Backtest every candidate, pick the best by sMAPE, forecast ``horizon`` hours with quantiles."""
    candidates = CANDIDATES if candidates is None else candidates
    future = hours[-1] + 1 + np.arange(horizon)
    if is_flat(y):
        level = np.full(horizon, float(y[-1]))
        return Forecast(
            "constant",
            {},
            {q: level for q in QUANTILES},
            future,
            0,
            (f"flat series (every hour {y[-1]:g} requests/s): forecast is that constant, no model fitted",),
        )
    origins, test = backtest_plan(len(y), horizon, folds)
    scores = {name: _score(name, fn, y, hours, origins, test) for name, fn in candidates.items()}
    notes = [f"{name} failed in the backtest: {s.error}" for name, s in scores.items() if s.error]
    usable = [s for s in scores.values() if s.error is None]
    if not usable:
        raise ValueError("; ".join(notes))
    order = list(candidates)
    best = min(usable, key=lambda s: (round(s.smape, 9), order.index(s.model)))
    point = np.asarray(candidates[best.model](y, hours, horizon), dtype=float)
    quantiles = {q: _exp(_log(point) + float(np.quantile(best.log_errors, q))) for q in QUANTILES}
    # Quantiles must not cross (they come from one error distribution, so they do not; keep it so after rounding).
    quantiles[0.95] = np.maximum(quantiles[0.95], quantiles[0.5])
    quantiles[0.99] = np.maximum(quantiles[0.99], quantiles[0.95])
    return Forecast(best.model, scores, quantiles, future, test, tuple(notes))
