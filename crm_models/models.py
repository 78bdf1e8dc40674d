"""The CRM's domain model. Field names follow DESIGN.md ("Names that other code
builds on"); rules that must never be broken are database constraints, each with
a message the admin form shows when it is violated."""

import functools
import uuid
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise
from simple_history.manager import HistoryManager
from simple_history.models import HistoricalRecords

from .normalization import normalize_email, normalize_phone
from .querysets import (
    CampaignQuerySet,
    ContractQuerySet,
    CustomerQuerySet,
    InteractionQuerySet,
    LeadQuerySet,
    ServiceQuerySet,
)


def money_field(verbose_name: "StrOrPromise") -> models.DecimalField:
    return models.DecimalField(
        verbose_name, max_digits=14, decimal_places=2, validators=[MinValueValidator(0)]
    )


END_BEFORE_START_MESSAGE = _("The end date cannot be before the start date.")
NEGATIVE_AMOUNT_MESSAGE = _("The amount cannot be negative.")


class HistoryManagerMadeOnce(HistoryManager):
    """simple-history's manager, its class made once per queryset class.

    `Model.history` makes a new manager class on each access (`from_queryset`),
    and writing a history row asks for it: a twentieth of a captured lead's
    time went into building classes."""

    @classmethod
    @functools.cache
    def from_queryset(cls, queryset_class: Any, class_name: str | None = None) -> Any:
        return super().from_queryset(queryset_class, class_name)


def history_records(*no_db_index: str, excluded: tuple[str, ...] = ()) -> HistoricalRecords:
    """simple-history's history table for a model, shaped for bulk writes.

    The tracked foreign keys named in `no_db_index` get no index in the history
    table: nothing looks history up by them, and every written row paid for the
    index (migration 0007). The history user is kept by Django (on_delete
    SET_NULL, as before) rather than by a database constraint, which PostgreSQL
    checked for every history row at commit: 0.25 s of a 100,000-lead import
    (bench/imports.py). `excluded` fields are not kept in the history.
    """
    return HistoricalRecords(
        no_db_index=list(no_db_index),
        excluded_fields=list(excluded),
        user_db_constraint=False,
        history_manager=HistoryManagerMadeOnce,
    )


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Service(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    price = money_field(_("price"))
    is_active = models.BooleanField(_("active"), default=True)

    history = history_records()
    objects = ServiceQuerySet.as_manager()

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        permissions = [
            ("import_service", _("Can import services")),
            ("export_service", _("Can export services")),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="service_name_ci_unique",
                violation_error_message=_("A service with this name already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0),
                name="service_price_non_negative",
                violation_error_message=_("The price cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.TextChoices):
    SEARCH = "search", _("Search")
    SOCIAL = "social", _("Social media")
    EMAIL = "email", _("E-mail")
    DISPLAY = "display", _("Display / banner")
    REFERRAL = "referral", _("Referral")
    OFFLINE = "offline", _("Offline")
    OTHER = "other", _("Other")


class Campaign(TimeStampedModel):
    name = models.CharField(_("name"), max_length=200)
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="campaigns"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    budget = money_field(_("budget"))
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    # Matched against a captured lead's utm_campaign (issue 21); stored in lower
    # case, so "Spring_Search" in an ad's URL finds "spring_search".
    utm_campaign = models.CharField(
        _("utm_campaign"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("The utm_campaign value of this campaign's ads; captured leads carrying it join it."),
    )

    # History tables get no index on the tracked foreign keys: nothing reads
    # history by them (a record's history is read by its id), and every
    # imported or converted row would pay for them.
    history = history_records("service")
    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-start_date", "name"]
        permissions = [
            ("import_campaign", _("Can import campaigns")),
            ("export_campaign", _("Can export campaigns")),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="campaign_name_ci_unique",
                violation_error_message=_("A campaign with this name already exists."),
            ),
            models.CheckConstraint(
                condition=models.Q(budget__gte=0),
                name="campaign_budget_non_negative",
                violation_error_message=_("The budget cannot be negative."),
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="campaign_end_after_start",
                violation_error_message=END_BEFORE_START_MESSAGE,
            ),
            models.UniqueConstraint(
                fields=["utm_campaign"],
                condition=~models.Q(utm_campaign=""),
                name="campaign_utm_campaign_unique",
                violation_error_message=_("Another campaign already has this utm_campaign."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.utm_campaign = self.utm_campaign.strip().lower()


class LeadStatus(models.TextChoices):
    # A context of its own: "New" alone is also the import preview's count of new rows.
    NEW = "new", pgettext_lazy("lead status", "New")
    IN_PROGRESS = "in_progress", _("In progress")
    QUALIFIED = "qualified", _("Qualified")
    CONVERTED = "converted", _("Converted")
    LOST = "lost", _("Lost")


class LeadSource(models.TextChoices):
    MANUAL = "manual", _("Typed in")
    IMPORT = "import", _("Imported")
    CAPTURE = "capture", _("Web form")


def utm_field(name: str) -> models.CharField:
    # db_default: the import writes leads with COPY, naming only its own columns.
    return models.CharField(name, max_length=200, blank=True, default="", db_default="")


class Lead(TimeStampedModel):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(
        _("phone"), max_length=20, blank=True, help_text=_("Any format; stored as +7XXXXXXXXXX.")
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    # No single-column indexes on campaign and owner: the composite indexes of
    # Meta.indexes start with these columns and serve the same lookups, and every
    # index costs the hottest table's writes (imports, conversions).
    campaign = models.ForeignKey(
        Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    status = models.CharField(_("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_leads",
        help_text=_("The operator responsible for this lead. Empty: in the queue every operator sees."),
        db_index=False,
        null=True,
        blank=True,
    )
    lost_reason = models.ForeignKey(
        "crm_models.LostReason",
        verbose_name=_("lost reason"),
        on_delete=models.PROTECT,
        related_name="leads",
        null=True,
        blank=True,
        help_text=_("Required when the lead is lost."),
    )
    # The due time of the lead's earliest open follow-up, kept by the
    # follow-up service: the list's next-step column and follow-up filter
    # read it from the lead's row instead of joining every follow-up.
    next_follow_up_at = models.DateTimeField(_("next step"), null=True, blank=True, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True, editable=False)
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=LeadSource.choices,
        default=LeadSource.MANUAL,
        db_default=LeadSource.MANUAL,
    )
    # The first touch: where the person came from the first time (kept as it
    # was when they come back). The latest touch is `last_touch`.
    utm_source = utm_field("utm_source")
    utm_medium = utm_field("utm_medium")
    utm_campaign = utm_field("utm_campaign")
    utm_content = utm_field("utm_content")
    utm_term = utm_field("utm_term")
    last_touch = models.JSONField(
        _("latest touch"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The utm_* values of the person's latest request through a web form."),
    )
    last_touch_at = models.DateTimeField(_("latest touch at"), null=True, blank=True, editable=False)

    history = history_records("campaign", "owner", "lost_reason")
    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("convert_lead", _("Can convert leads into customers")),
            ("import_lead", _("Can import leads")),
            ("export_lead", _("Can export leads")),
        ]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="lead_created_idx"),
            models.Index(fields=["owner", "-created_at", "-id"], name="lead_owner_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="lead_status_created_idx"),
            models.Index(fields=["campaign", "-created_at", "-id"], name="lead_campaign_created_idx"),
            # The list sorted by a column (admin/changelist.py: ties by date
            # and id): without them PostgreSQL sorted every lead (320 ms at a
            # million leads). The unique e-mail and phone indexes cannot serve
            # it: they are partial (non-empty values), the e-mail's also in
            # pattern order.
            models.Index(fields=["last_name", "-created_at", "-id"], name="lead_last_name_created_idx"),
            models.Index(fields=["email", "-created_at", "-id"], name="lead_email_created_idx"),
            models.Index(fields=["phone", "-created_at", "-id"], name="lead_phone_created_idx"),
            # The follow-up filters (a range of next-step times) and the list
            # sorted by the next step.
            models.Index(fields=["next_follow_up_at", "-created_at", "-id"], name="lead_next_step_idx"),
            # The same filters in an operator's list (their own leads): at a
            # million leads the capped count took 160 ms on the index above.
            models.Index(fields=["owner", "next_follow_up_at"], name="lead_owner_next_step_idx"),
        ]
        constraints = [
            # With the pattern operator class the same index also answers the
            # search box's e-mail prefix (`email LIKE 'ivan%' AND email > ''`),
            # so one index on e-mail serves both (migration 0006).
            models.UniqueConstraint(
                fields=["email"],
                condition=~models.Q(email=""),
                name="lead_email_unique",
                opclasses=["varchar_pattern_ops"],
                violation_error_message=_("A lead with this e-mail already exists."),
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=~models.Q(phone=""),
                name="lead_phone_unique",
                violation_error_message=_("A lead with this phone number already exists."),
            ),
            models.CheckConstraint(
                condition=~models.Q(email="") | ~models.Q(phone=""),
                name="lead_has_contact",
                violation_error_message=_("Give an e-mail or a phone number."),
            ),
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")),
                name="lead_email_lowercase",
                violation_error_message=_("The e-mail must be stored in lower case."),
            ),
            models.CheckConstraint(
                condition=models.Q(phone="") | models.Q(phone__startswith="+"),
                name="lead_phone_e164",
                violation_error_message=_("The phone must be stored in international format."),
            ),
            models.CheckConstraint(
                condition=~models.Q(status="lost") | models.Q(lost_reason__isnull=False),
                name="lead_lost_has_reason",
                violation_error_message=_("Choose why the lead was lost."),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def clean(self) -> None:
        # Normalise before the unique constraints are checked, so "Ivan@X.ru" and
        # "ivan@x.ru", or "8 916 ..." and "+7916...", are recognised as one person.
        self.email = normalize_email(self.email)
        try:
            self.phone = normalize_phone(self.phone)
        except ValidationError as error:
            raise ValidationError({"phone": error.messages}) from error


class Customer(TimeStampedModel):
    lead = models.OneToOneField(
        Lead, verbose_name=_("lead"), on_delete=models.PROTECT, related_name="customer"
    )
    # No single-column index: customer_manager_lead_idx starts with it (and
    # answers the interaction scope's "leads of my customers" from the index).
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="managed_customers",
        db_index=False,
    )
    # The lead's searched words, kept by database triggers (search_text.py).
    search_text = models.TextField(default="", editable=False)

    history = history_records("lead", "account_manager", excluded=("search_text",))
    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at", "-id"]
        permissions = [("export_customer", _("Can export customers"))]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="customer_created_idx"),
            models.Index(
                fields=["account_manager", "-created_at", "-id"], name="customer_manager_created_idx"
            ),
            # The interaction scope of a manager (querysets._interaction_lead_ids):
            # the leads of their customers, read from the index alone.
            models.Index(fields=["account_manager", "lead"], name="customer_manager_lead_idx"),
        ]

    def __str__(self) -> str:
        return self.lead.full_name


def contract_document_path(instance: "Contract", filename: str) -> str:
    """A random name under contracts/YYYY/MM/, keeping only the extension, so a
    stored path reveals nothing and cannot be guessed."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return timezone.now().strftime(f"contracts/%Y/%m/{uuid.uuid4().hex}{suffix}")


class Contract(TimeStampedModel):
    name = models.CharField(_("name / number"), max_length=200)
    # No single-column index: contract_customer_signed_idx starts with it.
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="contracts",
        db_index=False,
    )
    service = models.ForeignKey(
        Service, verbose_name=_("service"), on_delete=models.PROTECT, related_name="contracts"
    )
    document = models.FileField(_("document"), upload_to=contract_document_path, blank=True, max_length=255)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    amount = money_field(_("amount"))
    signed_at = models.DateField(_("signed on"), default=timezone.localdate)
    # The contract's name and its customer's words, kept by database triggers
    # (search_text.py).
    search_text = models.TextField(default="", editable=False)

    history = history_records("customer", "service", excluded=("search_text",))
    objects = ContractQuerySet.as_manager()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-signed_at", "-id"]
        permissions = [("export_contract", _("Can export contracts"))]
        indexes = [
            models.Index(fields=["-signed_at", "-id"], name="contract_signed_idx"),
            models.Index(fields=["customer", "-signed_at", "-id"], name="contract_customer_signed_idx"),
            models.Index(fields=["service", "-signed_at", "-id"], name="contract_service_signed_idx"),
            # The list sorted by a column (ties by date and id, see Lead):
            # PostgreSQL otherwise sorted every contract (45-50 ms of a page at
            # a million leads, twice the rest of it).
            models.Index(fields=["name", "-signed_at", "-id"], name="contract_name_signed_idx"),
            models.Index(fields=["amount", "-signed_at", "-id"], name="contract_amount_signed_idx"),
            models.Index(fields=["start_date", "-signed_at", "-id"], name="contract_start_signed_idx"),
            models.Index(fields=["end_date", "-signed_at", "-id"], name="contract_end_signed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0),
                name="contract_amount_non_negative",
                violation_error_message=NEGATIVE_AMOUNT_MESSAGE,
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="contract_end_after_start",
                violation_error_message=END_BEFORE_START_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class InteractionKind(models.TextChoices):
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    NOTE = "note", _("Note")


class Interaction(TimeStampedModel):
    # No single-column index: interaction_lead_happened_idx starts with it.
    lead = models.ForeignKey(
        Lead, verbose_name=_("lead"), on_delete=models.PROTECT, related_name="interactions", db_index=False
    )
    kind = models.CharField(
        _("kind"), max_length=20, choices=InteractionKind.choices, default=InteractionKind.CALL
    )
    happened_at = models.DateTimeField(_("when"), default=timezone.now)
    summary = models.TextField(_("summary"))
    # No single-column index: interaction_author_time_idx starts with it.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="interactions",
        null=True,
        blank=True,
        db_index=False,
    )

    history = history_records("lead", "author")
    objects = InteractionQuerySet.as_manager()

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-happened_at", "-id"]
        indexes = [
            # Lead and kind are included (PostgreSQL; other databases ignore
            # `include`) so that a scoped user's page walks this index alone,
            # testing each entry's lead against the scope and its kind against
            # the filter without reading the table (querysets.OrderedPageIn).
            models.Index(
                fields=["-happened_at", "-id"], name="interaction_happened_idx", include=["lead", "kind"]
            ),
            # A lead's timeline; and the count of a scoped user's interactions
            # (per own lead), with the kind filter answered from the index.
            models.Index(
                fields=["lead", "-happened_at", "-id"], name="interaction_lead_happened_idx", include=["kind"]
            ),
            # The list sorted by kind (ties by date and id): 110 ms at a
            # million interactions without it, a sort of the whole table. With
            # the lead, a scoped user's page tests its scope on the index alone,
            # as on interaction_happened_idx.
            models.Index(
                fields=["kind", "-happened_at", "-id"], name="interaction_kind_happened_idx", include=["lead"]
            ),
            # ...by author (and an author's interactions, a user's deletion check).
            models.Index(
                fields=["author", "-happened_at", "-id"], name="interaction_author_time_idx", include=["lead"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.summary[:60]}"


class ImportRecord(models.Model):
    """One confirmed import: who imported which file into which model, and what
    it did. Written once by the import service and read-only in the admin."""

    class Kind(models.TextChoices):
        LEAD = "lead", _("Leads")
        SERVICE = "service", _("Services")
        CAMPAIGN = "campaign", _("Campaigns")
        SPEND = "adspend", _("Ad spend")

    class DuplicateMode(models.TextChoices):
        UPDATE = "update", _("Update the existing record")
        SKIP = "skip", _("Skip the row")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.PROTECT,
        related_name="import_records",
    )
    created_at = models.DateTimeField(_("imported at"), default=timezone.now, editable=False)
    kind = models.CharField(_("imported into"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    file_size = models.PositiveBigIntegerField(_("file size (bytes)"))
    file_format = models.CharField(_("file format"), max_length=20)
    duplicate_mode = models.CharField(_("duplicates"), max_length=10, choices=DuplicateMode.choices)
    rows_total = models.PositiveIntegerField(_("rows in file"))
    created_count = models.PositiveIntegerField(_("new"))
    updated_count = models.PositiveIntegerField(_("updated"))
    skipped_count = models.PositiveIntegerField(_("skipped"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("import record")
        verbose_name_plural = _("import records")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="importrecord_created_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.file_name}"


# The capture and spend models live in their own module (issue 21); imported
# here so that Django finds them in the app's models module.
from .capture_models import AdSpend, CaptureOutcome, CaptureSubmission, LeadForm  # noqa: E402, F401
from .job_models import PeriodicJob, TaskResult  # noqa: E402, F401
from .workflow_models import (  # noqa: E402, F401
    AssignmentRule,
    AssignmentRuleMember,
    AssignmentStrategy,
    FollowUp,
    LostReason,
    Notification,
    OpenLeadCount,
    UserPreferences,
)
