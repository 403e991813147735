"""Milestone KPIs from raw product events: rule language, funnel, retention, PQLs."""

from growthlab.kpis.engine import (
    EventsInfo,
    Funnel,
    Retention,
    check_assignments,
    check_events,
    experiment_metrics,
    funnel,
    qualified_users,
    retention,
    success_gap,
)
from growthlab.kpis.milestones import (
    Milestone,
    check_names,
    load_from_workspace,
    load_milestones_file,
    milestones_toml,
    parse_milestones_toml,
    save_to_workspace,
    validate,
)
from growthlab.kpis.rules import parse_rule

__all__ = ["EventsInfo", "Funnel", "Milestone", "Retention", "check_assignments", "check_events",
           "check_names", "experiment_metrics", "funnel", "load_from_workspace",
           "load_milestones_file", "milestones_toml", "parse_milestones_toml", "parse_rule",
           "qualified_users", "retention", "save_to_workspace", "success_gap", "validate"]
