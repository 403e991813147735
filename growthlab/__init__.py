"""GrowthLab: outcome OKRs, growth experiments, milestone KPIs and a learning log."""

from growthlab.errors import GrowthLabError, InputError, StaleEditError, StatsError

__all__ = ["GrowthLabError", "InputError", "StaleEditError", "StatsError"]
__version__ = "0.1.0"
