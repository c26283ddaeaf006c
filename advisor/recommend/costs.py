"""Monthly cost of hosted tokens, the one formula the CONTRACT fixes. A month is 30 days.

Plans on devices (owned or rented) are costed in plans.py, beside the figures they rest on.
"""

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH


def hosted_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, input_usd_per_mtok: float,
                       output_usd_per_mtok: float, price_factor: float = 1.0) -> float:
    """The CONTRACT's formula; `output_tokens` are the billed ones (with hidden reasoning), `price_factor` 1 − a batch discount."""
    return requests_per_day * DAYS_PER_MONTH * (input_tokens * input_usd_per_mtok + output_tokens * output_usd_per_mtok) * price_factor / 1e6
