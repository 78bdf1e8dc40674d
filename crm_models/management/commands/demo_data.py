"""Fill the database with realistic demo data and the demo logins.

Idempotent: services, campaigns and users are looked up by name, and leads are
numbered, so a second run creates only what is missing. `--leads N` builds
large data sets with bulk inserts (benchmarks use 1,000,000).
"""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from crm_models.models import (
    Campaign,
    Channel,
    Contract,
    Customer,
    Interaction,
    InteractionKind,
    Lead,
    LeadStatus,
    Service,
)
from crm_models.roles import Role

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


@dataclass
class Batch:
    leads: list[Lead]
    interactions: list[Interaction]


class Command(BaseCommand):
    help = "Create demo data and the demo logins (admin, operator, operator2, marketer, manager, manager2; password 'demo')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--leads", type=int, default=2000, help="Total number of demo leads (default 2000)."
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: object, **options: int) -> None:
        if settings.ENVIRONMENT.lower() == "production":
            raise CommandError("Demo data and demo logins are never created in production.")
        self.rng = random.Random(options["seed"])  # noqa: S311 - demo data, not security
        self.today = timezone.localdate()
        with transaction.atomic():
            users = self.create_users()
            services = self.create_services()
            campaigns = self.create_campaigns(services)
        self.operators = [users["operator"], users["operator2"]]
        self.managers = [users["manager"], users["manager2"]]
        created = self.create_leads(campaigns, options["leads"], options["batch_size"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Service.objects.count()} services, {Campaign.objects.count()} campaigns, "
                f"{Lead.objects.count()} leads ({created} new), {Customer.objects.count()} customers, "
                f"{Contract.objects.count()} contracts. Logins: {', '.join(u[0] for u in DEMO_USERS)} / '{DEMO_PASSWORD}'."
            )
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
            budget = Decimal(0) if index == 29 else Decimal(20000 + (index * 7919) % 180000)
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
        return timezone.make_aware(moment)

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
                    owner=self.operators[number % len(self.operators)],
                    created_at=created,
                    converted_at=created + timedelta(days=rng.randint(1, 20))
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
            for _ in range(rng.randint(0, 2)):
                interactions.append(
                    Interaction(
                        lead=lead,
                        kind=rng.choice(InteractionKind.values),
                        happened_at=lead.created_at + timedelta(hours=rng.randint(1, 72)),
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
