"""Estimated monthly idle cost of the synthesized app (`headless-commerce cost`)."""

from .estimate import (
           DEV_BUDGET_USD,
           Estimate,
           capability_of_path,
           estimate_assembly,
           read_assembly,
           render_markdown,
           render_text,
)
from .pricing import PRICERS, PriceTable, UnpricedResource, load_prices, price_template

__all__ = ["DEV_BUDGET_USD", "PRICERS", "Estimate", "PriceTable", "UnpricedResource", "capability_of_path",
           "estimate_assembly", "load_prices", "price_template", "read_assembly", "render_markdown", "render_text"]
