"""The dashboards app's admin: admin-charts' chart definitions, for administrators only."""

from . import chart_definitions  # noqa: F401  (registers the chart definition admins)
