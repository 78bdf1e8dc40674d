"""Web capture and ad spend (issue 21): the forms a site posts leads to, every
request those forms received, and what the ad platforms really charged per day.

Field names follow DESIGN.md ("Capture, attribution and spend").
"""

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Campaign, Lead, TimeStampedModel, history_records, money_field
from .querysets import AdSpendQuerySet, CaptureSubmissionQuerySet, LeadFormQuerySet

# The fields a web form may send (besides utm_*); unknown ones are kept in the
# submission's payload only.
CAPTURE_FIELDS = ("first_name", "last_name", "email", "phone", "comment")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
KEY_PREFIX = "lf_"

BAD_ORIGIN_MESSAGE = _("“%(origin)s” is not an origin: write it as https://www.example.com (no path).")
NO_OWNER_MESSAGE = _("Choose who receives the leads of this form.")


def lead_form_key_hash(raw_key: str) -> str:
    """What is stored of a form's key: its SHA-256. The key itself is random
    (192 bits), so a plain hash is enough to make the stored value useless
    for posting, and it is found by an index lookup."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def new_lead_form_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(24)


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; '' when it has no host."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


class LeadForm(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200, unique=True)
    # The SHA-256 of the key (lead_form_key_hash); the key is shown once, when
    # it is made (on creation and on rotation), and never stored.
    key = models.CharField(_("key (SHA-256)"), max_length=64, unique=True, editable=False)
    key_hint = models.CharField(
        _("key ends with"),
        max_length=8,
        editable=False,
        help_text=_("The last characters of the key, to tell keys apart."),
    )
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("default campaign"),
        on_delete=models.PROTECT,
        related_name="lead_forms",
        help_text=_("Leads join this campaign unless their utm_campaign names another one."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("leads go to"),
        on_delete=models.PROTECT,
        related_name="lead_forms",
        null=True,
        blank=True,
        help_text=_(
            "The operator who receives the form's new leads that no assignment rule places. "
            "Empty: they wait in the unassigned queue."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        help_text=_(
            "Sites whose pages may post to this form from a browser, one per line "
            "(https://www.example.com). Servers posting without an Origin header are not affected."
        ),
    )
    required_fields = models.JSONField(
        _("required fields"),
        default=list,
        blank=True,
        help_text=_("Besides an e-mail or a phone, which every request needs."),
    )
    honeypot_field = models.CharField(
        _("honeypot field"),
        max_length=50,
        blank=True,
        default="website",
        help_text=_(
            "A field hidden from people: requests that fill it in are kept as rejected and make no lead."
        ),
    )
    redirect_url = models.URLField(
        _("thank-you page"),
        blank=True,
        help_text=_("Where a browser is sent after posting the form; empty: a plain thank-you page."),
    )

    history = history_records("campaign", "owner")
    objects = LeadFormQuerySet.as_manager()

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(filter(None, (origin_of(line) for line in self.allowed_origins.splitlines())))

    def set_key(self) -> str:
        """Give the form a new random key; returns it (the only time it is seen)."""
        raw_key = new_lead_form_key()
        self.key = lead_form_key_hash(raw_key)
        self.key_hint = raw_key[-4:]
        return raw_key

    def clean(self) -> None:
        lines = [line.strip() for line in self.allowed_origins.splitlines() if line.strip()]
        for line in lines:
            if origin_of(line) != line.rstrip("/").lower():
                raise ValidationError({"allowed_origins": BAD_ORIGIN_MESSAGE % {"origin": line}})
        self.allowed_origins = "\n".join(line.rstrip("/").lower() for line in lines)
        # Until leads may be unassigned (issue 20), a captured lead needs an owner.
        if self.owner_id is None and not Lead._meta.get_field("owner").null:
            raise ValidationError({"owner": NO_OWNER_MESSAGE})


class CaptureOutcome(models.TextChoices):
    RECEIVED = "received", _("Received, not processed yet")
    CREATED = "created", _("New lead")
    DUPLICATE = "duplicate", _("Known person")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Processing failed")


class CaptureSubmission(models.Model):
    """One request that reached a form, stored before it is processed, so that
    nothing a site sent is lost whatever happens next."""

    # No single-column indexes on form and lead: capture_form_received_idx
    # starts with the form, capture_lead_idx holds the leads that are set.
    form = models.ForeignKey(
        LeadForm,
        verbose_name=_("web form"),
        on_delete=models.PROTECT,
        related_name="submissions",
        db_index=False,
    )
    received_at = models.DateTimeField(_("received"), default=timezone.now, editable=False)
    payload = models.JSONField(_("fields sent"), default=dict)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, blank=True, default="")
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=CaptureOutcome.choices, default=CaptureOutcome.RECEIVED
    )
    errors = models.JSONField(_("errors"), default=dict, blank=True)
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("lead"),
        on_delete=models.PROTECT,
        related_name="capture_submissions",
        null=True,
        blank=True,
        db_index=False,
    )
    # The status of the first answer: a request repeated with the same
    # Idempotency-Key gets that answer again.
    response_status = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    objects = CaptureSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("web form request")
        verbose_name_plural = _("web form requests")
        ordering = ["-received_at", "-id"]
        permissions = [("retry_capturesubmission", _("Can retry failed web form requests"))]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="capture_received_idx"),
            models.Index(fields=["form", "-received_at", "-id"], name="capture_form_received_idx"),
            models.Index(fields=["outcome", "-received_at", "-id"], name="capture_outcome_received_idx"),
            models.Index(fields=["lead"], name="capture_lead_idx", condition=models.Q(lead__isnull=False)),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="capture_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form} #{self.pk}"


class AdSpend(TimeStampedModel):
    """What a campaign cost on one day on one platform (an ad platform's daily
    report row). A campaign with any of these rows has its spend computed from
    them; one without, from its budget (selectors/metrics.py)."""

    # No single-column index: the unique (campaign, date, source) starts with it.
    campaign = models.ForeignKey(
        Campaign,
        verbose_name=_("campaign"),
        on_delete=models.PROTECT,
        related_name="ad_spend",
        db_index=False,
    )
    date = models.DateField(_("date"))
    amount = money_field(_("amount"))
    source = models.CharField(
        _("source"),
        max_length=50,
        blank=True,
        default="",
        help_text=_("The ad platform, e.g. yandex, vk, google (as in the ads' utm_source)."),
    )

    history = history_records("campaign")
    objects = AdSpendQuerySet.as_manager()

    class Meta:
        verbose_name = _("ad spend")
        verbose_name_plural = _("ad spend")
        ordering = ["-date", "campaign_id", "source"]
        permissions = [
            ("import_adspend", _("Can import ad spend")),
            ("export_adspend", _("Can export ad spend")),
        ]
        indexes = [
            # The metrics' sums over a period, read from the index alone.
            models.Index(fields=["date", "campaign"], name="adspend_date_campaign_idx", include=["amount"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "date", "source"],
                name="adspend_campaign_date_source_unique",
                violation_error_message=_("This campaign already has spend for this day and source."),
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="adspend_amount_non_negative",
                violation_error_message=_("The amount cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.date} {self.source}".strip()

    def clean(self) -> None:
        self.source = self.source.strip().lower()
