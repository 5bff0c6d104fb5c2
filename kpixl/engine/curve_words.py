"""A KPI's payout curve as a client reads it: in words, and as points to draw (SPEC §5.3-5.4)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from kpixl.engine._arrays import FloatArray
from kpixl.engine.curves import factor
from kpixl.memo import remembered
from kpixl.model import Kpi

Language = Literal["en", "zh"]
#: Attainment the drawn curve runs to at least (the proposal shows 0-150 % and a little more).
CURVE_END = 1.6
#: Spacing of the regular points of a drawn curve; breakpoints are added exactly.
CURVE_STEP = 0.05
#: How far left of a breakpoint its left-hand limit is taken (draws a step as vertical).
_LEFT = 1e-9


def kpi_factor(kpi: Kpi, attainment: float) -> float:
    """The factor a KPI pays at an attainment before its cap (SPEC §5.3 cap, then §5.4).

    Args:
        kpi: the KPI.
        attainment: attainment, ≥ 0, before the KPI's attainment cap.

    Returns:
        The factor: threshold, curve and factor cap applied.
    """
    return float(_factors(kpi, np.asarray([attainment], dtype=np.float64))[0])


def _factors(kpi: Kpi, attainments: FloatArray) -> FloatArray:
    """:func:`kpi_factor` of many attainments in one pass."""
    a = attainments if kpi.attainment_cap is None else np.minimum(attainments, kpi.attainment_cap)
    curve = kpi.curve
    froms = () if curve is None else curve.froms
    rates = () if curve is None else curve.rates
    mode = None if curve is None else curve.mode
    return np.asarray(factor(a, froms, rates, mode, kpi.threshold, kpi.factor_cap))


def breakpoints(kpi: Kpi) -> tuple[float, ...]:
    """Attainments where the curve may jump or bend: threshold, tier starts, attainment cap."""
    points = set() if kpi.curve is None else set(kpi.curve.froms)
    points |= {x for x in (kpi.threshold, kpi.attainment_cap) if x is not None}
    return tuple(sorted(p for p in points if p > 0))


def point_count(kpi: Kpi) -> int:
    """How many points :func:`curve_points` gives (fixed by the KPI's shape, not its values)."""
    tiers = 0 if kpi.curve is None else len(kpi.curve.tiers)
    return round(CURVE_END / CURVE_STEP) + 1 + 2 * (tiers + 2)


def curve_points(kpi: Kpi) -> tuple[tuple[float, float], ...]:
    """(attainment, factor) points that draw the curve with its steps, slopes and cap.

    A regular grid from 0 to at least 150 %, plus each breakpoint and its left-hand limit, so
    that a step is drawn vertical. The count is :func:`point_count` (repeated points pad it).

    Args:
        kpi: the KPI.

    Returns:
        Points sorted by attainment.
    """
    return remembered(_POINTS, _curve_key(kpi), lambda: _curve_points(kpi), _KEPT)


def _curve_key(kpi: Kpi) -> str:
    """Everything a KPI's curve points and words depend on (threshold, caps, tiers, mode), as
    text: 1 and 1.0, 0.0 and -0.0 stay apart."""
    curve = kpi.curve
    return repr((kpi.threshold, kpi.attainment_cap, kpi.factor_cap,
                 None if curve is None else (curve.froms, curve.rates, curve.mode)))  # fmt: skip


#: Recent curves' points and words by :func:`_curve_key` (a portfolio reuses a few curves).
_POINTS: dict[str, tuple[tuple[float, float], ...]] = {}
_WORDS: dict[tuple[str, Language], str] = {}
_KEPT = 1024


def _curve_points(kpi: Kpi) -> tuple[tuple[float, float], ...]:
    marks = breakpoints(kpi)
    end = max(CURVE_END, *(p + 0.1 for p in marks)) if marks else CURVE_END
    grid_size = round(CURVE_END / CURVE_STEP) + 1
    xs = [end * i / (grid_size - 1) for i in range(grid_size)]
    extra: list[float] = []
    for p in marks:
        extra += [p - _LEFT, p]
    while len(xs) + len(extra) < point_count(kpi):
        extra.append(end)
    # Rounded to 10 decimals: a cell stores them exactly (15 significant digits) and a chart
    # cannot show more.
    xs = sorted(round(x, 10) for x in [*xs, *extra])
    fs = _factors(kpi, np.asarray(xs, dtype=np.float64))
    return tuple((x, round(float(f), 10)) for x, f in zip(xs, fs, strict=True))


def percent(value: float) -> str:
    """An attainment as a client reads it: ``80 %``, ``102.5 %``."""
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"


def times(value: float) -> str:
    """A factor as a multiple of the KPI's share of the pool: ``1.3×``."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return f"{text}×"


def describe_curve(kpi: Kpi, lang: Language = "en") -> str:
    """The KPI's payout rule in one line: threshold, curve, what 100 % pays and the cap.

    For example ``below 80 % nothing; steps: from 80 % 0.5×, from 100 % 1×; 100 % pays the
    full share; capped at 150 %`` (× = times the KPI's share of the pool, weight · pool).

    Args:
        kpi: the KPI.
        lang: ``en`` or ``zh``.

    Returns:
        The description.
    """
    return remembered(_WORDS, (_curve_key(kpi), lang), lambda: _describe_curve(kpi, lang), _KEPT)


def _describe_curve(kpi: Kpi, lang: Language) -> str:
    zh = lang == "zh"
    parts: list[str] = []
    if kpi.threshold is not None and kpi.threshold > 0:
        parts.append(
            f"低于{percent(kpi.threshold)}不支付"
            if zh
            else f"below {percent(kpi.threshold)} nothing"
        )
    parts.append(_shape(kpi, zh))
    at_target = kpi_factor(kpi, 1.0)
    if at_target == 1.0:
        parts.append("达成100%支付全额份额" if zh else "100 % pays the full share")
    else:
        parts.append(f"达成100%支付{times(at_target)}" if zh else f"100 % pays {times(at_target)}")
    parts.append(_cap(kpi, zh))
    return "；".join(parts) if zh else "; ".join(parts)


def _shape(kpi: Kpi, zh: bool) -> str:
    curve = kpi.curve
    if curve is None or not curve.tiers:
        return "系数 = 达成率" if zh else "factor = attainment"
    tiers = curve.tiers
    if curve.mode == "stepped":
        steps = [
            f"{percent(t.from_)}起{times(t.rate)}"
            if zh
            else f"from {percent(t.from_)} {times(t.rate)}"
            for t in tiers
        ]
        return ("阶梯：" if zh else "steps: ") + ("，".join(steps) if zh else ", ".join(steps))
    if curve.mode == "marginal":
        bands = []
        for i, t in enumerate(tiers):
            upper = tiers[i + 1].from_ if i + 1 < len(tiers) else None
            if zh:
                span = (
                    f"{percent(t.from_)}至{percent(upper)}" if upper else f"{percent(t.from_)}以上"
                )
                bands.append(f"{span}每点{times(t.rate)}")
            else:
                span = (
                    f"{percent(t.from_)}-{percent(upper)}" if upper else f"above {percent(t.from_)}"
                )
                bands.append(f"{times(t.rate)} per point {span}")
        return ("累进：" if zh else "marginal: ") + ("，".join(bands) if zh else ", ".join(bands))
    points = [f"{percent(t.from_)} → {times(t.rate)}" for t in tiers]
    if zh:
        return "线性插值：" + "，".join(points) + f"；低于{percent(tiers[0].from_)}为0"
    return "straight line through " + ", ".join(points) + f"; 0 below {percent(tiers[0].from_)}"


def _cap(kpi: Kpi, zh: bool) -> str:
    if kpi.attainment_cap is not None:
        top = kpi_factor(kpi, kpi.attainment_cap)
        where = percent(kpi.attainment_cap)
        return f"封顶于达成{where}（{times(top)}）" if zh else f"capped at {where} ({times(top)})"
    curve = kpi.curve
    grows = curve is None or not curve.tiers or curve.mode == "marginal"
    if kpi.factor_cap is not None:
        cap = times(kpi.factor_cap)
        return f"系数封顶{cap}" if zh else f"factor capped at {cap}"
    if grows:
        return "不封顶" if zh else "no cap"
    highest = times(max(curve.rates)) if curve is not None else ""
    return f"最高{highest}" if zh else f"at most {highest}"
