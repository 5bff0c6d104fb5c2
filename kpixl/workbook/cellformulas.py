"""The formula of every calculated cell, in native Excel and in KPIXL_* UDF form.

Each formula mirrors the engine's operation order (kpixl/engine) so that IEEE results agree:
payout = ROUND(pool*weight*f, d), linear = r_i+(a-x_i)*(r_j-r_i)/(x_j-x_i), lower = 2-A/T,
sums in KPI order. Money is ROUNDed only where the engine rounds.
"""

from __future__ import annotations

from kpixl.model import NON_NEGATIVE_UNITS
from kpixl.ratecard import ROLES
from kpixl.workbook.layout import Layout, Mode, cell, column, ratecard_names

BLANK = '""'


def _guard(layout: Layout, p: int, expr: str) -> str:
    """Blank when period p has no actuals yet."""
    return f'IF(${_col(layout, "n")}{p + 1}=0,"",{expr})'


def _col(layout: Layout, key: str) -> str:
    return column(layout.scol(key))


def _decimals(layout: Layout) -> str:
    return layout.quote("decimals")


def _if_number(ref: str, yes: str, no: str) -> str:
    return f"IF(ISNUMBER({ref}),{yes},{no})"


def metric_value(layout: Layout, metric: str, p: int) -> str:
    """Period p's value of a metric, with an approved adjustment replacing it."""
    match = (
        f"({layout.adjustment_range('period')}=$A{p + 1})"
        f"*({layout.adjustment_range('metric')}={layout.actual_header(metric)})"
    )
    adjusted = f"SUMPRODUCT({match}*{layout.adjustment_range('value')})"
    return f"IF(SUMPRODUCT({match})>0,{adjusted},{layout.actual(metric, p)})"


def _x(layout: Layout, metric: str, p: int) -> str:
    return layout.s(f"x:{metric}", p)


def _x_span(layout: Layout, metric: str, p: int) -> str:
    return layout.s_span(f"x:{metric}", p)


def _roll(span: str, single: str, how: str, p_ref: str) -> str:
    """A to-date figure: running sum, running mean or the last value."""
    if how == "sum":
        return f"SUM({span})"
    if how == "mean":
        return f"SUM({span})/{p_ref}"
    return single


def _measured_value(
    layout: Layout, ratio: tuple[str, str] | None, metric: str, how: str, p: int, to_date: bool
) -> str:
    p_ref = layout.s("p", p)
    if ratio is not None:
        num, den = ratio
        if to_date:
            return f"SUM({_x_span(layout, num, p)})/SUM({_x_span(layout, den, p)})"
        return f"{_x(layout, num, p)}/{_x(layout, den, p)}"
    if to_date:
        return _roll(_x_span(layout, metric, p), _x(layout, metric, p), how, p_ref)
    return _x(layout, metric, p)


def kpi_actual(layout: Layout, k: int, p: int, to_date: bool) -> str:
    """KPI k's actual (or to-date actual) expression."""
    kpi = layout.contract.kpis[k]
    return _measured_value(layout, kpi.ratio, kpi.source_column, kpi.rolls_up, p, to_date)


def kpi_target(layout: Layout, k: int, key: str, p: int, to_date: bool) -> str:
    """KPI k's effective target or baseline (to date when asked)."""
    how = layout.contract.kpis[k].rolls_up
    if to_date:
        return _roll(layout.target_span(k, key, p), layout.target(k, key, p), how, layout.s("p", p))
    return layout.target(k, key, p)


def attainment_native(layout: Layout, k: int, actual: str, target: str, base: str | None) -> str:
    """SPEC §5.3 attainment of KPI k as a native expression."""
    direction = layout.kpi(k, "direction")
    if base is None:
        core = f'IF({direction}="lower",2-{actual}/{target},{actual}/{target})'
    else:
        core = (
            f'IF({direction}="lower",({base}-{actual})/({base}-{target}),'
            f"({actual}-{base})/({target}-{base}))"
        )
    cap = layout.kpi(k, "attainment_cap")
    return _if_number(cap, f"MIN(MAX({core},0),{cap})", f"MAX({core},0)")


def attainment_udf(layout: Layout, k: int, actual: str, target: str, base: str | None) -> str:
    """SPEC §5.3 attainment of KPI k through KPIXL_ATTAINMENT."""
    return (
        f"KPIXL_ATTAINMENT({actual},{target},{layout.kpi(k, 'direction')},"
        f"{BLANK if base is None else base},{layout.kpi(k, 'attainment_cap')})"
    )


def curve_native(layout: Layout, k: int, a: str) -> str:
    """SPEC §5.4 curve of KPI k (before threshold and cap) as a native expression."""
    count = layout.tier_counts[k]
    if count == 0:
        return a
    xs = [layout.tier(k, i, "from") for i in range(count)]
    rs = [layout.tier(k, i, "rate") for i in range(count)]
    stepped = "0"
    for x, r in zip(xs, rs, strict=True):
        stepped = f"IF({a}>={x},{r},{stepped})"
    bands = [
        f"{rs[i]}*MAX(0,MIN({a},{xs[i + 1]})-{xs[i]})"
        if i + 1 < count
        else f"{rs[i]}*MAX(0,{a}-{xs[i]})"
        for i in range(count)
    ]
    marginal = "+".join(bands)
    mode = layout.kpi(k, "curve_mode")
    fallback = a
    if count >= 2:
        linear = rs[-1]
        for i in range(count - 2, -1, -1):
            step = f"{rs[i]}+({a}-{xs[i]})*({rs[i + 1]}-{rs[i]})/({xs[i + 1]}-{xs[i]})"
            linear = f"IF({a}<{xs[i + 1]},{step},{linear})"
        fallback = f'IF({mode}="linear",IF({a}<{xs[0]},0,{linear}),{a})'
    return f'IF({mode}="stepped",{stepped},IF({mode}="marginal",{marginal},{fallback}))'


def factor_native(layout: Layout, k: int, a: str) -> str:
    """SPEC §5.4 factor: curve, then threshold, then factor cap."""
    threshold = layout.kpi(k, "threshold")
    cap = layout.kpi(k, "factor_cap")
    value = f"IF(AND(ISNUMBER({threshold}),{a}<{threshold}),0,{curve_native(layout, k, a)})"
    return _if_number(cap, f"MIN({value},{cap})", value)


def factor_udf(layout: Layout, k: int, a: str) -> str:
    """SPEC §5.4 factor through KPIXL_FACTOR."""
    tiers = layout.tier_range(k) if layout.tier_counts[k] else BLANK
    mode = layout.kpi(k, "curve_mode") if layout.tier_counts[k] else BLANK
    return (
        f"KPIXL_FACTOR({a},{tiers},{mode},{layout.kpi(k, 'threshold')},"
        f"{layout.kpi(k, 'factor_cap')})"
    )


def _pool(layout: Layout, p: int) -> str:
    pool = layout.quote("pool")
    return f"{pool}*{layout.s('p', p)}" if layout.cumulative else pool


def holds(value: str, op: str, bound: str) -> str:
    """Whether ``value op bound`` holds, with the operator read from a cell."""
    return (
        f'IF({op}=">=",{value}>={bound},IF({op}=">",{value}>{bound},'
        f'IF({op}="<=",{value}<={bound},{value}<{bound})))'
    )


def guardrail_factor(layout: Layout, j: int, p: int, mode: Mode) -> str:
    """What guardrail j multiplies the bonus by in period p."""
    return guardrail_factor_of(layout, j, layout.s(f"g:{j}", p), mode)


def guardrail_factor_of(layout: Layout, j: int, value: str, mode: Mode) -> str:
    """What guardrail j multiplies the bonus by when its metric has the value in ``value``."""
    op, bound = layout.guardrail(j, "op"), layout.guardrail(j, "bound")
    effect, mult = layout.guardrail(j, "effect"), layout.guardrail(j, "multiplier")
    if mode == "udf":
        return f"KPIXL_GUARDRAIL({value},{op},{bound},{effect},{mult})"
    return f'IF({holds(value, op, bound)},1,IF({effect}="gate",0,{mult}))'


def _round(expr: str, layout: Layout, mode: Mode) -> str:
    name = "KPIXL_ROUND" if mode == "udf" else "ROUND"
    return f"{name}({expr},{_decimals(layout)})"


def caps(layout: Layout, amount: str, period_cap: str, paid: str, mode: Mode) -> str:
    """SPEC §5.7 caps on an amount, given the bonus paid before (both modes)."""
    return _caps(layout, amount, period_cap, paid, mode)


def _caps(layout: Layout, amount: str, period_cap: str, paid: str, mode: Mode) -> str:
    """SPEC §5.7: period cap, then what the contract cap still allows; rounded."""
    contract_cap = layout.quote("contract_cap")
    d = _decimals(layout)
    if mode == "udf":
        return f"KPIXL_CAP({amount},{period_cap},{paid},{contract_cap},{d})"
    capped = f"MIN({amount},{period_cap})"
    capped = _if_number(layout.quote("period_cap"), capped, amount)
    remaining = f"ROUND(MAX(0,{contract_cap}-{paid}),{d})"
    return f"ROUND({_if_number(contract_cap, f'MIN({capped},{remaining})', capped)},{d})"


def settlement_formula(layout: Layout, key: str, p: int, mode: Mode) -> str:
    """The formula (without ``=``) of Settlement column ``key`` in period p."""
    if key == "n":
        return f"COUNT({layout.actual_row_range(p)})"
    return _guard(layout, p, _settlement_expr(layout, key, p, mode))


def _settlement_expr(layout: Layout, key: str, p: int, mode: Mode) -> str:  # noqa: C901, PLR0911, PLR0912
    # One branch per column kind keeps each formula next to its SPEC rule.
    measure, _, name = key.partition(":")
    contract = layout.contract
    if measure == "x":
        return metric_value(layout, name, p)
    if measure in ("actual", "target", "baseline", "attainment", "factor", "payout", "own"):
        return _kpi_expr(layout, measure, layout.kpi_position[name], p, mode)
    if measure == "g":
        guardrail = contract.guardrails[int(name)]
        return _measured_value(
            layout,
            guardrail.ratio,
            guardrail.source_column,
            guardrail.rolls_up,
            p,
            layout.cumulative,
        )
    codes = list(layout.kpi_position)
    if key == "w":
        own = "own" if layout.cumulative else "attainment"
        if mode == "udf":
            first, last = layout.s(f"{own}:{codes[0]}", p), layout.s(f"{own}:{codes[-1]}", p)
            return f"KPIXL_WEIGHTED({layout.weights_range},{first}:{last})"
        terms = [
            f"{layout.kpi(k, 'weight')}*{layout.s(f'{own}:{c}', p)}" for k, c in enumerate(codes)
        ]
        return "+".join(terms)
    if key == "m":
        factors = [guardrail_factor(layout, j, p, mode) for j in range(layout.g)]
        return "*".join(factors) if factors else "1"
    if key == "uncapped":
        payouts = "+".join(layout.s(f"payout:{c}", p) for c in codes)
        return _round(f"({payouts})*{layout.s('m', p)}", layout, mode)
    if key == "to_date":
        pc = layout.quote("period_cap")
        period_cap = f"{pc}*{layout.s('p', p)}"
        if mode == "udf":
            period_cap = _if_number(pc, period_cap, BLANK)
        return _caps(layout, layout.s("uncapped", p), period_cap, "0", mode)
    if key == "paid_before":
        if p == 1:
            return "0"
        return _round(f"SUM({layout.s_span('bonus', p - 1)})", layout, mode)
    if key == "bonus":
        paid = layout.s("paid_before", p)
        if layout.cumulative:
            owed = _round(f"{layout.s('to_date', p)}-{paid}", layout, mode)
            return f"IF({layout.quote('clawback')},{owed},MAX(0,{owed}))"
        return _caps(layout, layout.s("uncapped", p), layout.quote("period_cap"), paid, mode)
    if key == "base":
        return _base(layout, p, mode)
    if key == "total":
        return _round(f"{layout.s('base', p)}+{layout.s('bonus', p)}", layout, mode)
    if key == "cum_bonus":
        return _round(f"{layout.s('paid_before', p)}+{layout.s('bonus', p)}", layout, mode)
    if key == "miss":
        threshold = layout.quote("exit_threshold")
        # 1 / 0 rather than TRUE / FALSE: a number format shows them as ✓ / — in every
        # application (Excel shows a boolean as TRUE whatever its format).
        flag = _if_number(threshold, f"{layout.s('w', p)}<{threshold}", "FALSE")
        return f"IF({flag},1,0)"
    if key == "streak":
        before = "0" if p == 1 else f"N({layout.s('streak', p - 1)})"
        return f"IF({layout.s('miss', p)},{before}+1,0)"
    if key == "exit":
        # The streak column carries the exit rule in both modes: KPIXL_EXIT over a range spills
        # an array, which a single cell would show by implicit intersection.
        consecutive = layout.quote("exit_consecutive")
        flag = _if_number(consecutive, f"{layout.s('streak', p)}>={consecutive}", "FALSE")
        return f"IF({flag},1,0)"
    raise KeyError(key)


def _kpi_expr(layout: Layout, measure: str, k: int, p: int, mode: Mode) -> str:  # noqa: PLR0911
    # One return per KPI measure column, in table order.
    code = layout.contract.kpis[k].code
    cumulative = layout.cumulative
    has_base = layout.contract.kpis[k].baseline is not None
    if measure == "actual":
        return kpi_actual(layout, k, p, cumulative)
    if measure == "target":
        return kpi_target(layout, k, "effective", p, cumulative)
    if measure == "baseline":
        return kpi_target(layout, k, "baseline", p, cumulative)
    if measure in ("attainment", "own"):
        if measure == "attainment":
            actual, target = layout.s(f"actual:{code}", p), layout.s(f"target:{code}", p)
            base = layout.s(f"baseline:{code}", p) if has_base else None
        else:
            actual = f"({kpi_actual(layout, k, p, False)})"
            target = kpi_target(layout, k, "effective", p, False)
            base = kpi_target(layout, k, "baseline", p, False) if has_base else None
        builder = attainment_udf if mode == "udf" else attainment_native
        return builder(layout, k, actual, target, base)
    a = layout.s(f"attainment:{code}", p)
    if measure == "factor":
        return factor_udf(layout, k, a) if mode == "udf" else factor_native(layout, k, a)
    factor_ref = layout.s(f"factor:{code}", p)
    weight = layout.kpi(k, "weight")
    if mode == "udf":
        return f"KPIXL_PAYOUT({_pool(layout, p)},{weight},{factor_ref},{_decimals(layout)})"
    return f"ROUND({_pool(layout, p)}*{weight}*{factor_ref},{_decimals(layout)})"


def _base(layout: Layout, p: int, mode: Mode) -> str:
    base, d = layout.quote("base"), _decimals(layout)
    if layout.contract.min_input is None:
        return _round(base, layout, mode)
    days, required = layout.s("x:person_days", p), layout.quote("person_days")
    if mode == "udf":
        return f"KPIXL_BASE({base},{days},{required},{d})"
    return _if_number(required, f"ROUND({base}*MIN(1,{days}/{required}),{d})", f"ROUND({base},{d})")


def effective_target(layout: Layout, k: int, p: int) -> str:
    """KPI k's effective target of period p: target times ramp (SPEC §5.1)."""
    target = layout.target(k, "target", p, absolute=False)
    ramp = layout.target(k, "ramp", p, absolute=False)
    return _if_number(ramp, f"{target}*{ramp}", target)


def total_formula(layout: Layout, key: str, mode: Mode) -> str:
    """A contract total: ROUND of the column's sum (SPEC §5.10)."""
    col = layout.scol(key)
    span = f"{cell(1, col)}:{cell(layout.n, col)}"
    return _round(f"SUM({span})", layout, mode)


# Scenarios (Quote, SPEC §6) ------------------------------------------------------------
# Period 1 with every KPI at the row's level: guardrails hold (m = 1), person-days are met
# (base = ROUND(base, d)), nothing was paid before. Cumulative settlement gives the same
# period 1 (pool and period cap times 1, nothing paid before).

#: Units whose actual cannot go below 0 (the model's rule), in a stable order for formulas.
NON_NEGATIVE = tuple(sorted(NON_NEGATIVE_UNITS))


def _when_level(layout: Layout, i: int, expr: str) -> str:
    """Blank while the row's level cell holds no number."""
    return _if_number(layout.scenario("level", i), expr, BLANK)


def scenario_attainment(layout: Layout, k: int, i: int) -> str:
    """KPI k's attainment at the row's level, as the engine's inverted actual gives it.

    A non-negative unit cannot go below 0, so a ``lower`` KPI reaches at most attainment 2
    (B / (B − T) with a baseline); then SPEC §5.3's floor at 0 and the attainment cap.
    """
    level = layout.scenario("level", i)
    if layout.contract.kpis[k].baseline is None:
        limit = "2"
    else:
        base, target = layout.target(k, "baseline", 1), layout.target(k, "effective", 1)
        limit = f"{base}/({base}-{target})"
    unit = layout.kpi(k, "unit")
    non_negative = ",".join(f'{unit}="{u}"' for u in NON_NEGATIVE)
    lower = f'AND({layout.kpi(k, "direction")}="lower",OR({non_negative}))'
    core = f"IF({lower},MIN({level},{limit}),{level})"
    cap = layout.kpi(k, "attainment_cap")
    return _when_level(layout, i, _if_number(cap, f"MIN(MAX({core},0),{cap})", f"MAX({core},0)"))


def scenario_formula(layout: Layout, key: str, i: int, mode: Mode) -> str:  # noqa: PLR0911
    # One return per scenario column, in table order.
    """The formula (without ``=``) of scenario row i's table column ``key``."""
    d = _decimals(layout)
    if key == "base":
        expr = _round(layout.quote("base"), layout, mode)
    elif key in ("bonus", "total") and mode == "udf":
        expr = _scenario_udf(layout, _scenario_payouts(layout, i), key)
    elif key == "bonus":
        uncapped = _round(_scenario_payouts(layout, i), layout, mode)  # guardrail multiplier 1
        expr = _caps(layout, uncapped, layout.quote("period_cap"), "0", mode)
    elif key == "total":
        total = f"{layout.scenario('base', i)}+{layout.scenario('bonus', i)}"
        expr = _round(total, layout, mode)
    elif key == "gmv":
        revenue = BLANK
        for k in range(layout.k - 1, -1, -1):
            same = f"{layout.quote('revenue_kpi')}={layout.kpi(k, 'code')}"
            revenue = f"IF({same},{layout.target(k, 'effective', 1)},{revenue})"
        level = layout.scenario("level", i)
        expr = f'IF(ISNUMBER({revenue}),{revenue}*{level},"")'
    elif key == "fee_share":
        gmv = layout.scenario("gmv", i)
        expr = f'IF(N({gmv})=0,"",{layout.scenario("total", i)}/{gmv})'
    elif key == "fixed_fee" and layout.priced:
        expr = layout.pricing("list")  # the quote's list price, as ``kpixl scenarios`` shows
    elif key == "fixed_fee":
        expr = _round(f"{layout.quote('base')}+{layout.quote('pool')}", layout, mode)
    elif key == "cps_fee":
        gmv, rate = layout.scenario("gmv", i), layout.cps_rate
        name = "KPIXL_ROUND" if mode == "udf" else "ROUND"
        expr = f'IF(AND(ISNUMBER({rate}),ISNUMBER({gmv})),{name}({rate}*{gmv},{d}),"")'
    else:
        raise KeyError(key)
    return _when_level(layout, i, expr)


def _scenario_payouts(layout: Layout, i: int) -> str:
    """Scenario row i's KPI payout cells added in KPI order, as the engine adds them."""
    return "+".join(layout.scenario_kpi(k, "payout", i) for k in range(layout.k))


def _scenario_udf(layout: Layout, payouts: str, figure: str) -> str:
    """KPIXL_SCENARIO: the engine's ``scenario_fee`` on the row's payouts.

    The payout cells are not adjacent (each KPI's attainment, factor and payout sit together),
    so the formula passes their sum, added in KPI order as the engine adds them.
    """
    q = layout.quote
    return (
        f"KPIXL_SCENARIO({q('base')},{payouts},{q('period_cap')},{q('contract_cap')},"
        f'{_decimals(layout)},"{figure}")'
    )


def scenario_kpi_formula(layout: Layout, k: int, key: str, i: int, mode: Mode) -> str:
    """The formula of KPI k's scenario helper cell: attainment, factor (the Settlement
    sheet's own curve formula on the scenario attainment) or payout."""
    if key == "attainment":
        return scenario_attainment(layout, k, i)
    a = layout.scenario_kpi(k, "attainment", i)
    if key == "factor":
        expr = factor_udf(layout, k, a) if mode == "udf" else factor_native(layout, k, a)
        return _when_level(layout, i, expr)
    if key == "payout":
        f = layout.scenario_kpi(k, "factor", i)
        weight, pool, d = layout.kpi(k, "weight"), layout.quote("pool"), _decimals(layout)
        if mode == "udf":
            return _when_level(layout, i, f"KPIXL_PAYOUT({pool},{weight},{f},{d})")
        return _when_level(layout, i, f"ROUND({pool}*{weight}*{f},{d})")
    raise KeyError(key)


def _lookup(layout: Layout, table: str, key: str) -> str:
    """The RateCard value whose name the pricing input ``key`` holds (exact match)."""
    names, values = layout.ratecard_range(table, "name"), layout.ratecard_range(table, "value")
    return f"INDEX({values},MATCH({layout.pricing(key)},{names},0))"


def pricing_formula(layout: Layout, key: str, mode: Mode) -> str:  # noqa: PLR0911
    # One return per pricing result, in the order engine/pricing.py computes them.
    """The formula of a Quote pricing result: the SPEC §6 arithmetic of ``engine/pricing.py``.

    Same operation order as the engine, ROUND only where it rounds; the term discount is that
    of the largest tier whose min months is at most the term (MATCH type 1 on ascending tiers).
    In udf mode the monthly list and the list price are KPIXL_LISTPRICE (``list_figures``).
    """
    p = layout.pricing
    if key == "team_cost":
        team = layout.pricing_range(f"team.{ROLES[0]}", f"team.{ROLES[-1]}")
        return f"SUMPRODUCT({layout.ratecard_range('roles', 'value')},{team})"
    if key == "term_discount":
        mins = layout.ratecard_range("term_discounts", "name")
        discounts = layout.ratecard_range("term_discounts", "value")
        return f"INDEX({discounts},MATCH({p('term_months')},{mins},1))"
    if key in ("monthly_list", "list") and mode == "udf":
        months = "1" if key == "monthly_list" else _months(layout)
        return _list_price_udf(layout, months)
    if key == "monthly_list":
        surcharge = layout.ratecard_value("settings", "market_surcharge")
        language_fee = layout.ratecard_value("settings", "language_fee")
        add_ons = ratecard_names("add_ons")
        fees = "0"
        if add_ons:
            flags = layout.pricing_range(f"add_on.{add_ons[0]}", f"add_on.{add_ons[-1]}")
            fees = f"SUMPRODUCT({layout.ratecard_range('add_ons', 'value')},{flags})"
        adjusted = (
            f"{p('team_cost')}*{_lookup(layout, 'platforms', 'platform')}"
            f"*(1+{surcharge}*({p('markets')}-1))*{_lookup(layout, 'categories', 'category_class')}"
        )
        integration = _lookup(layout, "integrations", "integration")
        subtotal = f"{adjusted}+{integration}+{fees}+{language_fee}*{p('languages')}"
        return _round(f"({subtotal})*(1-{p('term_discount')})", layout, mode)
    if key == "list":
        return _round(f"{p('monthly_list')}*{_months(layout)}", layout, mode)
    if key == "base":
        return _round(f"{p('list')}*{p('base_share')}", layout, mode)
    if key == "pool":
        return _round(f"{p('list')}*(1-{p('base_share')})*{p('risk_premium')}", layout, mode)
    if key == "period_cap":
        cap = p("cap_ratio")
        return _if_number(cap, _round(f"{p('pool')}*{cap}", layout, mode), BLANK)
    raise KeyError(key)


def _months(layout: Layout) -> str:
    """Monthly list prices per settlement period: 3 for a quarter, else 1."""
    return f'IF({layout.quote("period")}="quarter",3,1)'


def _list_price_udf(layout: Layout, months: str) -> str:
    """KPIXL_LISTPRICE on the RateCard sheet and the pricing inputs (``engine.list_figures``)."""
    p = layout.pricing
    add_ons = ratecard_names("add_ons")
    rates = flags = BLANK
    if add_ons:
        rates = layout.ratecard_range("add_ons", "value")
        flags = layout.pricing_range(f"add_on.{add_ons[0]}", f"add_on.{add_ons[-1]}")
    args = (
        layout.ratecard_range("roles", "value"),
        layout.pricing_range(f"team.{ROLES[0]}", f"team.{ROLES[-1]}"),
        _lookup(layout, "platforms", "platform"),
        p("markets"),
        layout.ratecard_value("settings", "market_surcharge"),
        _lookup(layout, "categories", "category_class"),
        _lookup(layout, "integrations", "integration"),
        rates,
        flags,
        p("languages"),
        layout.ratecard_value("settings", "language_fee"),
        p("term_discount"),
        months,
        _decimals(layout),
    )
    return f"KPIXL_LISTPRICE({','.join(args)})"
