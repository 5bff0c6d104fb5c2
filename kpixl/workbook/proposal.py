"""The words of the Quote sheet as a proposal (SPEC §7): fee line, KPI terms, terms, signatures.

Every text is a label computed from the contract, so the builder writes it and the validator
checks it from the one place; a term edited in the workbook leaves a stale text, which
``kpixl validate`` reports as a changed label (a warning: rebuild to refresh the proposal).
"""

from __future__ import annotations

from kpixl.engine.curve_words import describe_curve, percent, times
from kpixl.model import Contract, Kpi
from kpixl.workbook.layout import Lang, Layout

#: Label of each line of a KPI's block (the title line's label is the KPI's name).
KPI_LINE_LABELS: dict[str, tuple[str, str]] = {
    "definition": ("Definition", "口径定义"),
    "source": ("Data source", "数据来源"),
    "target": ("Target", "目标"),
    "curve": ("Payout curve", "兑付曲线"),
}
TERM_LABELS: dict[str, tuple[str, str]] = {
    "guardrail": ("Guardrail", "风控指标"),
    "guardrail_none": ("Guardrails", "风控指标"),
    "caps": ("Caps", "封顶"),
    "min_input": ("Minimum input", "最低投入"),
    "exit": ("Exit clause", "退出机制"),
}
SIGNATURE_LABELS: dict[str, tuple[str, str]] = {
    "name": ("Name", "姓名"),
    "title": ("Title", "职务"),
    "signature": ("Signature", "签字"),
    "date": ("Date", "日期"),
}
_BLANK = "________________________"
OPERATORS = {">=": "≥", ">": ">", "<=": "≤", "<": "<"}


def both(en: str, zh: str, lang: Lang) -> str:
    """A long bilingual text: English, then Chinese on the next line (or one language)."""
    if lang == "en":
        return en
    if lang == "zh":
        return zh
    return f"{en}\n{zh}"


def _short(en: str, zh: str, lang: Lang) -> str:
    return en if lang == "en" else zh if lang == "zh" else f"{en} / {zh}"


def money(contract: Contract, value: float) -> str:
    """An amount with the currency: ``9,000.00 USD``."""
    return f"{value:,.{contract.decimals}f} {contract.currency}"


def _each(contract: Contract, zh: bool) -> str:
    if zh:
        return "每月" if contract.period == "month" else "每季度"
    return "each month" if contract.period == "month" else "each quarter"


def _per(contract: Contract, zh: bool) -> str:
    if zh:
        return "每月" if contract.period == "month" else "每季度"
    return "per month" if contract.period == "month" else "per quarter"


def _number(kpi: Kpi, contract: Contract, value: float) -> str:
    if kpi.unit == "currency":
        return money(contract, value)
    if kpi.unit == "percent":
        return percent(value)
    text = f"{value:,.4f}".rstrip("0").rstrip(".")
    return text


def fee_line(contract: Contract, lang: Lang) -> str:
    """The fee structure in one line: shares, base, pool and the fee at 100 %."""
    fee = contract.fee
    whole = fee.base + fee.pool
    share = 0.0 if whole == 0 else fee.base / whole
    base_pct, pool_pct = percent(share), percent(1 - share)
    base, pool, total = money(contract, fee.base), money(contract, fee.pool), money(contract, whole)
    en = (
        f"{base_pct} base + {pool_pct} performance: a base fee of {base} "
        f"{_per(contract, False)} plus a bonus pool of {pool} {_per(contract, False)} paid by "
        f"KPI attainment ({total} {_per(contract, False)} with every KPI on target)"
    )
    zh = (
        f"{base_pct}基础 + {pool_pct}绩效：{_per(contract, True)}基础服务费 {base}，"
        f"绩效奖金池 {pool} 按KPI达成支付（全部KPI达标时{_per(contract, True)}合计 {total}）"
    )
    return both(en, zh, lang)


def prepared_line(contract: Contract, lang: Lang) -> str:
    """Who the proposal is for and from."""
    en = f"Proposal for {contract.client}, prepared by {contract.provider}"
    zh = f"致 {contract.client}，由 {contract.provider} 提供"
    return _short(en, zh, lang)


def kpi_title(contract: Contract, k: int, lang: Lang) -> str:
    """``1. GMV completion / GMV完成``: the KPI's names (中/EN)."""
    kpi = contract.kpis[k]
    name = kpi.name or kpi.code
    names = name if not kpi.name_zh or lang == "en" else f"{name} / {kpi.name_zh}"
    return f"{k + 1}. {kpi.name_zh or name}" if lang == "zh" else f"{k + 1}. {names}"


def kpi_text(contract: Contract, k: int, line: str, lang: Lang) -> str:
    """One line of KPI k's block of terms."""
    kpi = contract.kpis[k]
    if line == "title":
        share = money(contract, contract.fee.pool * kpi.weight)
        en = f"weight {percent(kpi.weight)}: {share} {_per(contract, False)} at 100 % ({kpi.code})"
        zh = f"权重 {percent(kpi.weight)}：达成100%时{_per(contract, True)} {share}（{kpi.code}）"
        return _short(en, zh, lang)
    if line == "definition":
        return kpi.definition or "—"
    if line == "source":
        return kpi.source or "—"
    if line == "target":
        return _target(contract, kpi, lang)
    return both(describe_curve(kpi, "en"), describe_curve(kpi, "zh"), lang)


def _target(contract: Contract, kpi: Kpi, lang: Lang) -> str:
    targets = kpi.effective_targets(contract.periods)
    low, high = min(targets), max(targets)
    per_en, per_zh = _each(contract, False), _each(contract, True)
    if low == high:
        en, zh = (
            f"{_number(kpi, contract, low)} {per_en}",
            f"{per_zh} {_number(kpi, contract, low)}",
        )
    else:
        span = f"{_number(kpi, contract, low)} – {_number(kpi, contract, high)}"
        en = f"{span} {per_en} (ramp or staged goals: each period's target is on the KPIs sheet)"
        zh = f"{per_zh} {span}（爬坡或分期目标，各期目标见KPIs表）"
    if kpi.direction == "lower":
        en, zh = en + "; lower is better", zh + "；越低越好"
    else:
        en, zh = en + "; higher is better", zh + "；越高越好"
    baselines = kpi.baselines(contract.periods)
    if baselines is not None:
        base = _number(kpi, contract, baselines[0])
        en, zh = en + f"; measured from a baseline of {base}", zh + f"；基线 {base}"
    return _short(en, zh, lang) if lang != "both" else f"{en}\n{zh}"


def term_label(key: str, lang: Lang) -> str:
    """The label of a term line (guardrail, caps, minimum input, exit)."""
    return _short(*TERM_LABELS[key.partition("[")[0]], lang)


def term_text(contract: Contract, key: str, lang: Lang) -> str:
    """A term in words."""
    if key.startswith("guardrail["):
        en, zh = _guardrail(contract, int(key[len("guardrail[") : -1]))
    elif key == "guardrail_none":
        en, zh = "none: the bonus depends on the KPIs only", "无：奖金只取决于KPI"
    elif key == "caps":
        en, zh = _caps(contract)
    elif key == "min_input":
        en, zh = _min_input(contract)
    else:
        en, zh = _exit(contract)
    return _short(en, zh, lang) if lang != "both" else f"{en}\n{zh}"


def _guardrail(contract: Contract, j: int) -> tuple[str, str]:
    guardrail = contract.guardrails[j]
    what = "/".join(guardrail.columns)
    bound = f"{guardrail.bound:.4f}".rstrip("0").rstrip(".")
    rule = f"{what} {OPERATORS[guardrail.op]} {bound}"
    if guardrail.effect == "gate":
        return f"{rule}; if not, no bonus for the period", f"{rule}；未达到则当期无奖金"
    factor = times(guardrail.breach_multiplier)
    return f"{rule}; if not, the bonus × {factor}", f"{rule}；未达到则奖金 × {factor}"


def _caps(contract: Contract) -> tuple[str, str]:
    fee = contract.fee
    caps_en, caps_zh = [], []
    if fee.period_cap is not None:
        caps_en.append(f"{money(contract, fee.period_cap)} {_per(contract, False)}")
        caps_zh.append(f"{_per(contract, True)} {money(contract, fee.period_cap)}")
    if fee.contract_cap is not None:
        caps_en.append(f"{money(contract, fee.contract_cap)} over the contract")
        caps_zh.append(f"合同期内 {money(contract, fee.contract_cap)}")
    if not caps_en:
        return "no cap on the bonus", "奖金不封顶"
    return "the bonus is at most " + " and ".join(caps_en), "奖金上限：" + "，".join(caps_zh)


def _min_input(contract: Contract) -> tuple[str, str]:
    if contract.min_input is None:
        return "none", "无"
    days = f"{contract.min_input.person_days:g}"
    en = f"at least {days} person-days {_per(contract, False)}; below that the base fee is prorated"
    return en, f"{_per(contract, True)}至少 {days} 人天；不足则按比例支付基础服务费"


def _exit(contract: Contract) -> tuple[str, str]:
    if contract.exit is None:
        return "none", "无"
    n, w = contract.exit.consecutive, percent(contract.exit.threshold)
    unit = "month" if contract.period == "month" else "quarter"
    en = (
        f"the client may end the contract after {n} consecutive {unit}(s) "
        f"with weighted attainment below {w}"
    )
    return en, f"连续 {n} 期加权达成率低于 {w}，客户可终止合同"


def signature_text(contract: Contract, line: str, side: str, lang: Lang) -> str:
    """A line of the signature block, for the client or the provider side."""
    if line == "party":
        if side == "client":
            return f"{_short('For the client', '客户', lang)}: {contract.client}"
        return f"{_short('For the provider', '服务商', lang)}: {contract.provider}"
    return f"{_short(*SIGNATURE_LABELS[line], lang)}: {_BLANK}"


def proposal_label(name: str, layout: Layout, lang: Lang) -> str:  # noqa: PLR0911
    # One return per text family (prepared, fee line, KPI, term, signature, curve): flat.
    """The text of a ``label.proposal.*`` cell, by the rest of its key."""
    contract = layout.contract
    if name == "prepared":
        return prepared_line(contract, lang)
    if name == "fee_line":
        return fee_line(contract, lang)
    kind, _, rest = name.partition(".")
    if kind.startswith("kpi["):
        k = int(kind[len("kpi[") : -1])
        if rest == "name":
            return kpi_title(contract, k, lang)
        return kpi_text(contract, k, rest, lang)
    if kind == "kpi_line":
        return _short(*KPI_LINE_LABELS[rest], lang)
    if kind == "term":
        key, _, which = rest.rpartition(".")  # which: name (column A) or text
        return term_label(key, lang) if which == "name" else term_text(contract, key, lang)
    if kind == "sign":
        line, _, side = rest.partition(".")
        return signature_text(contract, line, side, lang)
    if kind == "curve":
        return contract.kpis[int(rest)].code
    raise KeyError(name)
