"""Pre-aggregated campaign figures ("rollups"), kept exact by PostgreSQL triggers.

At a million leads, counting the leads, conversions and contract amounts of a
year straight from the base tables takes seconds. These tables hold the same
figures summed per campaign and day, per campaign and month, per day over all
campaigns, and per first-touch utm_source and day or month, so a year is a few
thousand small rows instead of a million.

Nothing in Python writes them: statement-level triggers on the lead, customer
and contract tables (dashboards/rollups.py, installed by migration 0003) add the
difference every INSERT, UPDATE, DELETE or COPY makes, in the same transaction,
whatever code issued it (admin forms, the COPY-based import, lead conversion,
the shell). `crm_models.selectors.metrics` reads them on PostgreSQL and falls
back to the base tables elsewhere (SQLite has no such triggers).

Days are local days in the time zone the triggers were installed with
(settings.TIME_ZONE; `manage.py migrate` rebuilds them when it changes).
"""

from admin_tools_stats.models import DashboardStats
from django.db import models
from django.utils.translation import gettext_lazy as _

# The campaign_id of the rows that sum every campaign (no campaign has id 0).
ALL_CAMPAIGNS = 0


class Grain(models.TextChoices):
    # A campaign's figure on one day: the edges of a period that cut a month.
    DAY = "day", _("campaign and day")
    # A campaign's figure in one calendar month (`day` is the 1st): whole months of a period.
    MONTH = "month", _("campaign and month")
    # Every campaign's figure on one day (campaign_id = ALL_CAMPAIGNS): the time series.
    TOTAL = "total", _("day, all campaigns")
    # The figure of the leads of one first-touch utm_source, over every
    # campaign (campaign_id = ALL_CAMPAIGNS), on one day and in one month: the
    # dashboard's breakdown by source.
    SOURCE_DAY = "source_day", _("source and day")
    SOURCE_MONTH = "source_month", _("source and month")


class Rollup(models.Model):
    grain = models.CharField(max_length=12, choices=Grain.choices)
    day = models.DateField()
    # Not a foreign key: rows may outlive a campaign that has no leads any more,
    # and the ALL_CAMPAIGNS rows belong to none.
    campaign_id = models.IntegerField()
    # The leads' first-touch utm_source in the SOURCE_* grains; "" in the others.
    utm_source = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.grain} {self.day} campaign {self.campaign_id} {self.utm_source}".rstrip()


class LeadRollup(Rollup):
    """Leads created (Lead.created_at, local day) per grain."""

    leads = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "campaign_id", "utm_source"], name="dash_leadrollup_key"
            ),
        ]


class ConversionRollup(Rollup):
    """Leads converted into a customer (Lead.converted_at, local day, counted
    only while the lead has a customer), by the lead's campaign."""

    customers = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "campaign_id", "utm_source"], name="dash_conversionrollup_key"
            ),
        ]


class RevenueRollup(Rollup):
    """Contract amounts by signing day (Contract.signed_at), by the campaign of
    the contract's customer's lead; no TOTAL rows (no chart needs them)."""

    revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "day", "campaign_id", "utm_source"], name="dash_revenuerollup_key"
            ),
        ]


class LeadChartDefinition(DashboardStats):
    """An admin-charts chart definition (the same rows) whose lead counts come
    from the rollup tables when the chart and the request allow it
    (dashboards/chart_series.py), and from the package otherwise. The chart
    views read definitions through this class (dashboards/charts.py)."""

    class Meta:
        proxy = True
        default_permissions = ()

    def get_multi_time_series(  # type: ignore[no-untyped-def]
        self, configuration, time_since, time_until, interval, operation_choice, operation_field_choice, user
    ):
        # Imported here: the selectors it reads import this module.
        from dashboards.chart_series import lead_chart_series

        series = lead_chart_series(
            self,
            configuration,
            time_since,
            time_until,
            interval,
            operation_choice,
            operation_field_choice,
            user,
        )
        if series is None:
            return super().get_multi_time_series(
                configuration,
                time_since,
                time_until,
                interval,
                operation_choice,
                operation_field_choice,
                user,
            )
        return series
