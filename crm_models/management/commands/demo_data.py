"""Fill the database with realistic demo data and the demo logins.

Idempotent: services, campaigns and users are looked up by name, and leads are
numbered, so a second run creates only what is missing. `--leads N` builds
large data sets (benchmarks use 1,000,000): above LARGE_MODE_THRESHOLD leads the
leads are spread over many generated operators and managers (so that `operator`
holds about 1% of them, the scope the benchmarks measure), and on PostgreSQL
rows and their history go in through COPY, several times faster than INSERT.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm_models.capture_models import AdSpend, LeadForm, lead_form_key_hash
from crm_models.models import (
    Campaign,
    Channel,
    Contract,
    Customer,
    Interaction,
    InteractionKind,
    Lead,
    LeadSource,
    LeadStatus,
    LostReason,
    Service,
)
from crm_models.roles import Role
from crm_models.views import DEMO_FORM_KEY, DEMO_UTM_CAMPAIGN
from crm_models.workflow_models import AssignmentRule, AssignmentRuleMember, AssignmentStrategy

DEMO_PASSWORD = "demo"  # noqa: S105 - local demo only; refused in production
DEMO_EMAIL_DOMAIN = "demo.example"
DEMO_USERS: list[tuple[str, Role, str, str]] = [
    ("admin", Role.ADMINISTRATOR, "Anna", "Adminova"),
    ("operator", Role.OPERATOR, "Olga", "Operatorova"),
    ("operator2", Role.OPERATOR, "Oleg", "Petrov"),
    ("marketer", Role.MARKETER, "Maria", "Marketova"),
    ("manager", Role.MANAGER, "Mikhail", "Menedzherov"),
    ("manager2", Role.MANAGER, "Max", "Ivanov"),
]

SERVICES: list[tuple[str, str, int]] = [
    ("Контекстная реклама", "Настройка и ведение рекламы в поисковых системах", 45000),
    ("SMM-продвижение", "Ведение сообществ и таргетированная реклама", 38000),
    ("Email-маркетинг", "Стратегия, шаблоны и рассылки", 25000),
    ("Медийная реклама", "Баннерные кампании на площадках", 60000),
    ("SEO Audit", "Technical and content audit of a website", 30000),
    ("Website Development", "Corporate website on a modern stack", 250000),
    ("Брендинг", "Логотип, фирменный стиль и брендбук", 120000),
    ("Analytics Setup", "Web analytics, goals and dashboards", 40000),
    ("Видеопродакшн", "Рекламные ролики под ключ", 180000),
    ("CRM Integration", "Connecting sales channels to the CRM", 90000),
]

CAMPAIGN_THEMES = [
    "Весна",
    "Лето",
    "Осень",
    "Зима",
    "Black Friday",
    "Новый год",
    "Back to school",
    "Webinar",
    "Конференция",
    "Партнёры",
]

FIRST_NAMES = [
    ("Иван", "Ivan"),
    ("Анна", "Anna"),
    ("Сергей", "Sergey"),
    ("Мария", "Maria"),
    ("Дмитрий", "Dmitry"),
    ("Елена", "Elena"),
    ("Алексей", "Alexey"),
    ("Ольга", "Olga"),
    ("Николай", "Nikolay"),
    ("Татьяна", "Tatiana"),
    ("John", "John"),
    ("Emma", "Emma"),
    ("Michael", "Michael"),
    ("Sophie", "Sophie"),
    ("David", "David"),
    ("Laura", "Laura"),
]
LAST_NAMES = [
    ("Иванов", "ivanov"),
    ("Смирнова", "smirnova"),
    ("Кузнецов", "kuznetsov"),
    ("Попова", "popova"),
    ("Соколов", "sokolov"),
    ("Лебедева", "lebedeva"),
    ("Новиков", "novikov"),
    ("Морозова", "morozova"),
    ("Smith", "smith"),
    ("Brown", "brown"),
    ("Taylor", "taylor"),
    ("Wilson", "wilson"),
    ("Miller", "miller"),
    ("Davis", "davis"),
]
COMPANIES = ["", "", "ООО Ромашка", "Acme Ltd", "ИП Сидоров", "Globex", "АО Вектор", "Initech"]
STATUS_WEIGHTS = [
    (LeadStatus.NEW, 35),
    (LeadStatus.IN_PROGRESS, 25),
    (LeadStatus.QUALIFIED, 15),
    (LeadStatus.CONVERTED, 15),
    (LeadStatus.LOST, 10),
]
SUMMARIES = [
    "Первый звонок: интересуется ценами",
    "Sent the commercial proposal",
    "Встреча в офисе, обсудили сроки",
    "Follow-up e-mail with case studies",
    "Перезвонить через неделю",
    "Asked for a discount for a yearly contract",
]


LARGE_MODE_THRESHOLD = 10_000
# Notes of the demo's planned steps.
FOLLOW_UP_NOTES = [
    "Call back about the quote",
    "Send the price list and the contract draft",
    "Confirm the meeting time",
    "Ask whether the budget was approved",
]

DEMO_FORM_NAME = "Demo landing page"
# The utm_source of each channel's demo leads and spend (the usual values of Russian ad platforms).
SPEND_SOURCES: dict[str, str] = {
    Channel.SEARCH: "yandex",
    Channel.SOCIAL: "vk",
    Channel.DISPLAY: "google",
    Channel.EMAIL: "newsletter",
    Channel.REFERRAL: "partner",
}
# In large mode `operator` and `operator2` each own 1 lead in (2 + GENERATED_OPERATORS).
GENERATED_OPERATORS = 100
GENERATED_MANAGERS = 20
COPY_CHUNK = 50_000

# Column order of the COPY rows built below; the historical tables take the same
# columns plus simple-history's own.
LEAD_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "status",
    "notes",
    "converted_at",
    "campaign_id",
    "owner_id",
    "lost_reason_id",
]
CUSTOMER_COLUMNS = ["id", "created_at", "updated_at", "account_manager_id", "lead_id"]
CONTRACT_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "name",
    "document",
    "start_date",
    "end_date",
    "amount",
    "signed_at",
    "customer_id",
    "service_id",
]
INTERACTION_COLUMNS = [
    "id",
    "created_at",
    "updated_at",
    "kind",
    "happened_at",
    "summary",
    "author_id",
    "lead_id",
]
HISTORY_COLUMNS = ["history_id", "history_date", "history_change_reason", "history_type", "history_user_id"]


def copy_text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def skip_foreign_key_checks() -> None:
    """Skip the per-row foreign-key triggers for the current transaction.

    The rows are consistent by construction (ids assigned here, parents written in
    the same transaction), and the triggers cost more than the COPY itself. Only a
    superuser may do this; anyone else loads more slowly, with the checks.
    """
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        pass


@dataclass
class CopyTable:
    """Rows for one table and its historical table, each row written twice:
    the object and its creation record ('+')."""

    model: type[Any]
    columns: list[str]
    next_id: int = 0
    next_history_id: int = 0
    rows: list[str] = field(default_factory=list)
    history_rows: list[str] = field(default_factory=list)

    def add(self, values: list[Any], created: datetime) -> int:
        self.next_id += 1
        self.next_history_id += 1
        values[0] = self.next_id
        line = "\t".join(map(copy_text, values))
        self.rows.append(line)
        self.history_rows.append(f"{line}\t{self.next_history_id}\t{created.isoformat()}\t\\N\t+\t\\N")
        return self.next_id

    def start(self) -> None:
        history = self.model.history.model
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.model._meta.db_table}")  # noqa: S608
            self.next_id = cursor.fetchone()[0]
            cursor.execute(f"SELECT COALESCE(MAX(history_id), 0) FROM {history._meta.db_table}")  # noqa: S608
            self.next_history_id = cursor.fetchone()[0]

    def flush(self) -> None:
        history_table = self.model.history.model._meta.db_table
        for table, columns, rows in [
            (self.model._meta.db_table, self.columns, self.rows),
            (history_table, self.columns + HISTORY_COLUMNS, self.history_rows),
        ]:
            if not rows:
                continue
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for offset in range(0, len(rows), 10_000):
                    copy.write("\n".join(rows[offset : offset + 10_000]) + "\n")
        self.rows.clear()
        self.history_rows.clear()


class Command(BaseCommand):
    help = "Create demo data and the demo logins (admin, operator, operator2, marketer, manager, manager2; password 'demo')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--leads", type=int, default=2000, help="Total number of demo leads (default 2000)."
        )
        parser.add_argument("--batch-size", type=int, default=5000, help="Leads per transaction.")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: object, **options: int) -> None:
        if settings.ENVIRONMENT.lower() == "production":
            raise CommandError("Demo data and demo logins are never created in production.")
        self.rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        self.today = timezone.localdate()
        self.now = timezone.now()
        with transaction.atomic():
            users = self.create_users()
            services = self.create_services()
            campaigns = self.create_campaigns(services)
        self.operators = [users["operator"], users["operator2"]]
        self.managers = [users["manager"], users["manager2"]]
        # The reasons the migrations start with (0015_workflow).
        self.lost_reasons = list(LostReason.objects.filter(is_active=True).order_by("pk"))
        with transaction.atomic():
            self.create_capture_demo(campaigns, users["operator"])
            self.create_ad_spend(campaigns)
            self.create_assignment_rules(campaigns)
        if options["leads"] > LARGE_MODE_THRESHOLD:
            with transaction.atomic():
                self.operators += self.create_staff("operator_{:03d}", GENERATED_OPERATORS, Role.OPERATOR)
                self.managers += self.create_staff("manager_{:02d}", GENERATED_MANAGERS, Role.MANAGER)
        if connection.vendor == "postgresql" and options["leads"] > LARGE_MODE_THRESHOLD:
            created = self.copy_leads(campaigns, options["leads"], max(options["batch_size"], COPY_CHUNK))
        else:
            created = self.create_leads(campaigns, options["leads"], options["batch_size"])
        self.fill_utm_sources()
        with transaction.atomic():
            self.create_follow_ups(
                [users["operator"], users["operator2"], users["manager"], users["manager2"]]
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Service.objects.count()} services, {Campaign.objects.count()} campaigns, "
                f"{Lead.objects.count()} leads ({created} new), {Customer.objects.count()} customers, "
                f"{Contract.objects.count()} contracts. Logins: {', '.join(u[0] for u in DEMO_USERS)} / '{DEMO_PASSWORD}'."
            )
        )

    def create_follow_ups(self, assignees: list[User]) -> None:
        """Overdue, due-today and next-week steps for each demo operator and
        manager (on leads they own or their customers' leads), so "My day" has
        work on the first login. Created now, through the service that keeps
        each lead's next step; a user who has steps already gets none."""
        from crm_models.selectors.followups import day_bounds
        from crm_models.services.followups import follow_up_leads_for, follow_up_plan
        from crm_models.workflow_models import FollowUp

        now, _start, end = day_bounds()
        left_today = end - now
        moments = [
            now - timedelta(days=1, hours=2),
            now - timedelta(hours=3),
            now + left_today / 3,
            now + left_today * 2 / 3,
            now + timedelta(days=7),
            now + timedelta(days=8, hours=1),
        ]
        kinds = [InteractionKind.CALL, InteractionKind.EMAIL, InteractionKind.CALL, InteractionKind.MEETING]
        for user in assignees:
            if FollowUp.objects.filter(assignee=user).exists():
                continue
            # An operator's steps on their open leads, a manager's on their customers'.
            statuses = (
                [LeadStatus.CONVERTED]
                if user.groups.filter(name=Role.MANAGER).exists()
                else [LeadStatus.NEW, LeadStatus.IN_PROGRESS, LeadStatus.QUALIFIED]
            )
            leads = list(
                follow_up_leads_for(user)
                .filter(status__in=statuses)
                .exclude(phone="")
                .order_by("-created_at", "-id")[: len(moments)]
            )
            for index, (lead, due_at) in enumerate(zip(leads, moments, strict=False)):
                follow_up_plan(
                    lead=lead,
                    user=user,
                    due_at=due_at,
                    kind=kinds[index % len(kinds)],
                    note=FOLLOW_UP_NOTES[index % len(FOLLOW_UP_NOTES)],
                    assignee_id=user.pk,
                )

    def create_users(self) -> dict[str, User]:
        users = {}
        for username, role, first, last in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@{DEMO_EMAIL_DOMAIN}",
                    "is_staff": True,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def create_staff(self, pattern: str, count: int, role: Role) -> list[User]:
        """Extra staff for large data sets: no password (nobody logs in as them)."""
        names = [pattern.format(index) for index in range(count)]
        existing = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        new_users = [User(username=name, is_staff=True) for name in names if name not in existing]
        for user in new_users:
            user.set_unusable_password()
        User.objects.bulk_create(new_users)
        users = sorted(User.objects.filter(username__in=names), key=lambda user: user.username)
        group = Group.objects.get(name=role)
        group.user_set.add(*users)
        return users

    def create_services(self) -> list[Service]:
        services = []
        for name, description, price in SERVICES:
            service, _ = Service.objects.get_or_create(
                name=name, defaults={"description": description, "price": Decimal(price)}
            )
            services.append(service)
        return services

    def create_campaigns(self, services: list[Service]) -> list[Campaign]:
        channels = list(Channel.values)
        campaigns = []
        for index in range(30):
            channel = channels[index % len(channels)]
            service = services[index % len(services)]
            theme = CAMPAIGN_THEMES[index % len(CAMPAIGN_THEMES)]
            start = self.today - timedelta(days=360 - index * 11)
            end = start + timedelta(days=30 + (index % 3) * 30)
            # Budgets in the range real campaigns spend, so ROI comes out both
            # negative and positive across the demo campaigns (one has no budget).
            budget = Decimal(0) if index == 29 else Decimal(300_000 + (index * 7919) % 29 * 100_000)
            campaign, _ = Campaign.objects.get_or_create(
                name=f"{service.name} — {theme} #{index + 1}",
                defaults={
                    "service": service,
                    "channel": channel,
                    "budget": budget,
                    "start_date": start,
                    "end_date": end,
                },
            )
            campaigns.append(campaign)
        return campaigns

    def create_capture_demo(self, campaigns: list[Campaign], operator: User) -> None:
        """The demo web form (its key known to the demo landing page) and a
        campaign its utm_campaign leads to."""
        target = campaigns[-2]
        if not Campaign.objects.filter(utm_campaign=DEMO_UTM_CAMPAIGN).exists():
            target.utm_campaign = DEMO_UTM_CAMPAIGN
            target.save(update_fields=["utm_campaign"])
        LeadForm.objects.update_or_create(
            name=DEMO_FORM_NAME,
            defaults={
                "key": lead_form_key_hash(DEMO_FORM_KEY),
                "key_hint": DEMO_FORM_KEY[-4:],
                "campaign": campaigns[-1],
                "owner": operator,
                "is_active": True,
                "required_fields": ["first_name"],
            },
        )

    def create_ad_spend(self, campaigns: list[Campaign]) -> None:
        """Daily spend for every other campaign (the rest keep their spend
        estimated from the budget), spread around budget / days."""
        if AdSpend.objects.exists():
            return
        rows = []
        for index, campaign in enumerate(campaigns):
            if index % 2 or not campaign.budget:
                continue
            source = SPEND_SOURCES.get(campaign.channel, "other")
            days = (campaign.end_date - campaign.start_date).days + 1
            daily = campaign.budget / days
            last = min(campaign.end_date, self.today)
            day = campaign.start_date
            while day <= last:
                amount = (daily * Decimal(self.rng.uniform(0.6, 1.3))).quantize(Decimal("0.01"))
                rows.append(AdSpend(campaign=campaign, date=day, amount=amount, source=source))
                day += timedelta(days=1)
        AdSpend.objects.bulk_create(rows, batch_size=5000)

    def fill_utm_sources(self) -> None:
        """Demo leads get the utm_source their campaign's channel would give
        them, so that the dashboard's break-down by source has something to show."""
        for channel, source in SPEND_SOURCES.items():
            Lead.objects.filter(campaign__channel=channel, utm_source="", source=LeadSource.MANUAL).update(
                utm_source=source
            )

    def create_leads(self, campaigns: list[Campaign], total: int, batch_size: int) -> int:
        existing = Lead.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count()
        for start in range(existing, total, batch_size):
            stop = min(start + batch_size, total)
            with transaction.atomic():
                self.create_batch(campaigns, start, stop)
            if total > 10_000:
                self.stdout.write(f"  {stop:,} / {total:,} leads")
        return max(total - existing, 0)

    def lead_moment(self, campaign: Campaign) -> datetime:
        last_day = min(campaign.end_date, self.today)
        span = max((last_day - campaign.start_date).days, 0)
        day = campaign.start_date + timedelta(days=self.rng.randint(0, span))
        moment = datetime.combine(day, time(self.rng.randint(8, 20), self.rng.randint(0, 59)))
        return self.not_later_than_now(timezone.make_aware(moment))

    def not_later_than_now(self, moment: datetime) -> datetime:
        """Nothing in the demo happens after the command ran (today's leads
        came in this morning, not tonight)."""
        return min(moment, self.now - timedelta(minutes=1))

    @staticmethod
    def in_queue(number: int, status: str) -> bool:
        """About one lead in ten waits in the unassigned queue: new ones only."""
        return status == LeadStatus.NEW and number % 7 < 2

    def create_assignment_rules(self, campaigns: list[Campaign]) -> None:
        """Search leads go round the two demo operators (at most 40 a day
        each); leads of every other channel to the one with fewer open leads."""
        rules = [
            ("Search ads", Channel.SEARCH, AssignmentStrategy.ROUND_ROBIN, 40),
            ("Everything else", "", AssignmentStrategy.LEAST_BUSY, None),
        ]
        for position, (name, channel, strategy, capacity) in enumerate(rules, start=1):
            rule, created = AssignmentRule.objects.get_or_create(
                name=name,
                defaults={
                    "position": position,
                    "channel": channel,
                    "strategy": strategy,
                    "daily_capacity": capacity,
                },
            )
            if created:
                for operator in self.operators[:2]:
                    AssignmentRuleMember.objects.create(rule=rule, user=operator)

    def create_batch(self, campaigns: list[Campaign], start: int, stop: int) -> None:
        rng = self.rng
        statuses = [s for s, _ in STATUS_WEIGHTS]
        weights = [w for _, w in STATUS_WEIGHTS]
        leads = []
        for number in range(start, stop):
            first_ru, first_en = rng.choice(FIRST_NAMES)
            last_ru, last_en = rng.choice(LAST_NAMES)
            campaign = campaigns[number % len(campaigns)]
            created = self.lead_moment(campaign)
            status = rng.choices(statuses, weights)[0]
            leads.append(
                Lead(
                    first_name=first_ru if number % 2 else first_en,
                    last_name=last_ru if number % 2 else last_en.capitalize(),
                    email=f"{first_en.lower()}.{last_en}{number}@{DEMO_EMAIL_DOMAIN}",
                    phone=f"+7916{number:07d}",
                    company=rng.choice(COMPANIES),
                    campaign=campaign,
                    status=status,
                    owner=None
                    if self.in_queue(number, status)
                    else self.operators[number % len(self.operators)],
                    lost_reason=self.lost_reasons[number % len(self.lost_reasons)]
                    if status == LeadStatus.LOST
                    else None,
                    created_at=created,
                    converted_at=self.not_later_than_now(created + timedelta(days=rng.randint(1, 20)))
                    if status == LeadStatus.CONVERTED
                    else None,
                )
            )
        leads = bulk_create_with_history(leads, Lead, batch_size=len(leads))
        if any(lead.pk is None for lead in leads):
            lead_ids = dict(
                Lead.objects.filter(email__in=[lead.email for lead in leads]).values_list("email", "pk")
            )
            for lead in leads:
                lead.pk = lead_ids[lead.email]

        customers = []
        interactions = []
        for lead in leads:
            for _ in range(rng.randint(0, 2) if lead.owner else 0):
                interactions.append(
                    Interaction(
                        lead=lead,
                        kind=rng.choice(InteractionKind.values),
                        happened_at=self.not_later_than_now(
                            lead.created_at + timedelta(hours=rng.randint(1, 72))
                        ),
                        summary=rng.choice(SUMMARIES),
                        author=lead.owner,
                    )
                )
            if lead.status == LeadStatus.CONVERTED:
                customers.append(
                    Customer(
                        lead=lead,
                        account_manager=self.managers[lead.pk % len(self.managers)],
                        created_at=lead.converted_at,
                    )
                )
        customers = bulk_create_with_history(customers, Customer, batch_size=max(len(customers), 1))
        if customers and any(c.pk is None for c in customers):
            by_lead = dict(
                Customer.objects.filter(lead__in=[c.lead for c in customers]).values_list("lead_id", "pk")
            )
            for customer in customers:
                customer.pk = by_lead[customer.lead_id]

        contracts = []
        for customer in customers:
            lead = customer.lead
            signed: date = timezone.localdate(lead.converted_at)  # type: ignore[arg-type]
            service = lead.campaign.service
            contract_count = 2 if customer.lead_id % 5 == 0 else 1
            for index in range(contract_count):
                begin = signed + timedelta(days=index * 180)
                contracts.append(
                    Contract(
                        name=f"{service.name} — {lead.full_name} #{index + 1}",
                        customer=customer,
                        service=service,
                        start_date=begin,
                        end_date=begin + timedelta(days=365),
                        amount=service.price * Decimal(rng.choice([1, 1, 2, 3])),
                        signed_at=min(begin, self.today),
                        created_at=lead.converted_at,
                    )
                )
            interactions.append(
                Interaction(
                    lead=lead,
                    kind=InteractionKind.NOTE,
                    happened_at=lead.converted_at,
                    summary=f"Converted to customer with contract «{contracts[-contract_count].name}»",
                    author=customer.account_manager,
                )
            )
        bulk_create_with_history(contracts, Contract, batch_size=max(len(contracts), 1))
        bulk_create_with_history(interactions, Interaction, batch_size=max(len(interactions), 1))

    def copy_leads(self, campaigns: list[Campaign], total: int, chunk: int) -> int:
        """The create_leads data set through COPY (PostgreSQL only): same shape,
        ids assigned here, sequences moved past them at the end."""
        existing = Lead.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}").count()
        tables = {
            model: CopyTable(model, columns)
            for model, columns in [
                (Lead, LEAD_COLUMNS),
                (Customer, CUSTOMER_COLUMNS),
                (Contract, CONTRACT_COLUMNS),
                (Interaction, INTERACTION_COLUMNS),
            ]
        }
        for start in range(existing, total, chunk):
            stop = min(start + chunk, total)
            with transaction.atomic():
                skip_foreign_key_checks()
                for table in tables.values():
                    table.start()
                self.copy_batch(campaigns, range(start, stop), tables)
                for table in tables.values():
                    table.flush()
            self.stdout.write(f"  {stop:,} / {total:,} leads")
        models = list(tables) + [model.history.model for model in tables]  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), models):
                cursor.execute(statement)
            # Fresh statistics and visibility maps: the planner's estimates and
            # index-only scans depend on them.
            for model in models:
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        return max(total - existing, 0)

    def copy_batch(
        self, campaigns: list[Campaign], numbers: Iterable[int], tables: dict[type[Any], CopyTable]
    ) -> None:
        rng = self.rng
        statuses = [s.value for s, _ in STATUS_WEIGHTS]
        cumulative = []
        running = 0
        for _, weight in STATUS_WEIGHTS:
            running += weight
            cumulative.append(running)
        kinds = list(InteractionKind.values)
        leads, customers = tables[Lead], tables[Customer]
        contracts, interactions = tables[Contract], tables[Interaction]
        operator_ids = [user.pk for user in self.operators]
        lost_reason_ids = [reason.pk for reason in self.lost_reasons]
        manager_ids = [user.pk for user in self.managers]
        for number in numbers:
            first_ru, first_en = rng.choice(FIRST_NAMES)
            last_ru, last_en = rng.choice(LAST_NAMES)
            first_name = first_ru if number % 2 else first_en
            last_name = last_ru if number % 2 else last_en.capitalize()
            campaign = campaigns[number % len(campaigns)]
            created = self.lead_moment(campaign) + timedelta(seconds=rng.randrange(60))
            draw = rng.random() * running
            status = next(s for s, edge in zip(statuses, cumulative, strict=True) if draw < edge)
            converted_at = (
                self.not_later_than_now(created + timedelta(days=rng.randint(1, 20)))
                if status == LeadStatus.CONVERTED
                else None
            )
            # Staff by blocks of len(campaigns) leads, not number % staff: that would
            # tie each operator to a few campaigns, and so to a few date ranges.
            block = number // len(campaigns)
            owner_id = None if self.in_queue(number, status) else operator_ids[block % len(operator_ids)]
            lead_id = leads.add(
                [
                    None,
                    created,
                    created,
                    first_name,
                    last_name,
                    f"{first_en.lower()}.{last_en}{number}@{DEMO_EMAIL_DOMAIN}",
                    f"+7916{number:07d}",
                    rng.choice(COMPANIES),
                    status,
                    "",
                    converted_at,
                    campaign.pk,
                    owner_id,
                    lost_reason_ids[number % len(lost_reason_ids)] if status == LeadStatus.LOST else None,
                ],
                created,
            )
            for _ in range(rng.randint(0, 2) if owner_id else 0):
                happened = self.not_later_than_now(created + timedelta(hours=rng.randint(1, 72)))
                interactions.add(
                    [
                        None,
                        happened,
                        happened,
                        rng.choice(kinds),
                        happened,
                        rng.choice(SUMMARIES),
                        owner_id,
                        lead_id,
                    ],
                    happened,
                )
            if converted_at is None:
                continue
            manager_id = manager_ids[block % len(manager_ids)]
            customer_id = customers.add([None, converted_at, converted_at, manager_id, lead_id], converted_at)
            signed: date = timezone.localdate(converted_at)
            service = campaign.service
            contract_count = 2 if lead_id % 5 == 0 else 1
            first_contract = f"{service.name} — {first_name} {last_name} #1"
            for index in range(contract_count):
                begin = signed + timedelta(days=index * 180)
                contracts.add(
                    [
                        None,
                        converted_at,
                        converted_at,
                        f"{service.name} — {first_name} {last_name} #{index + 1}",
                        "",
                        begin,
                        begin + timedelta(days=365),
                        service.price * rng.choice([1, 1, 2, 3]),
                        min(begin, self.today),
                        customer_id,
                        service.pk,
                    ],
                    converted_at,
                )
            interactions.add(
                [
                    None,
                    converted_at,
                    converted_at,
                    InteractionKind.NOTE.value,
                    converted_at,
                    f"Converted to customer with contract «{first_contract}»",
                    manager_id,
                    lead_id,
                ],
                converted_at,
            )
