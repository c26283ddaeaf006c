from django import template

from advisor.web.checks import trial_costs_at_volume

register = template.Library()


@register.filter
def usd(value) -> str:
    """Dollars readable at any size: $1,234 · $12.34 · $0.0012 (two significant figures under a dollar,
    so a run that costs a fraction of a cent never shows as $0.00)."""
    if value is None or value == "":
        return "–"
    value = float(value)
    if value == 0:
        return "$0"
    sign, value = ("-" if value < 0 else ""), abs(value)
    if value >= 100:
        return f"{sign}${value:,.0f}"
    if value >= 0.1:
        return f"{sign}${value:,.2f}"
    return f"{sign}${value:.2g}" if value >= 0.01 else f"{sign}${float(f'{value:.2g}'):f}".rstrip("0")


@register.inclusion_tag("web/_volume_costs.html")
def volume_costs(trial, hide_names=False, for_owner=True):
    """The trial's measured costs at its recommendation's volume: for its owner only, since the
    volume is one of the recommendation's private answers (a shared trial's readers see the runs)."""
    shown = for_owner and not hide_names
    return {"trial": trial, "rows": trial_costs_at_volume(trial) if shown else [], "recommendation": trial.recommendation if shown else None}
