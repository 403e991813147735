"""Statistics engine: pure numpy/scipy/statsmodels, vectorised, no I/O."""

from growthlab.stats.analysis import Analysis, MetricRow, Options, analyze, control_of
from growthlab.stats.power import detectable_effect, plan
from growthlab.stats.srm import SRM_THRESHOLD, srm_test

__all__ = ["Analysis", "MetricRow", "Options", "SRM_THRESHOLD", "analyze", "control_of",
           "detectable_effect", "plan", "srm_test"]
