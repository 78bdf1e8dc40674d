"""factory-boy factories for the domain model and for users in each role."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group, User
from django.utils import timezone

from crm_models.models import (
    AdSpend,
    Campaign,
    Channel,
    Contract,
    Customer,
    Interaction,
    Lead,
    LeadForm,
    LeadStatus,
    LostReason,
    Service,
)
from crm_models.roles import Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@staff.example")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    is_staff = True
    password = factory.django.Password("pass")

    @factory.post_generation
    def role(self, create: bool, extracted: Role | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    description = "A service"
    price = Decimal("1000.00")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    service = factory.SubFactory(ServiceFactory)
    channel = Channel.SEARCH
    budget = Decimal("10000.00")
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@client.example")
    phone = factory.Sequence(lambda n: f"+7926{n:07d}")
    campaign = factory.SubFactory(CampaignFactory)
    status = LeadStatus.NEW
    owner = factory.SubFactory(UserFactory, role=Role.OPERATOR)
    # A lost lead needs a reason (a database constraint): one of those the
    # migrations start with.
    lost_reason = factory.LazyAttribute(
        lambda lead: LostReason.objects.get(name="Other") if lead.status == LeadStatus.LOST else None
    )


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    lead = factory.SubFactory(
        LeadFactory, status=LeadStatus.CONVERTED, converted_at=factory.LazyFunction(timezone.now)
    )
    account_manager = factory.SubFactory(UserFactory, role=Role.MANAGER)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    name = factory.Sequence(lambda n: f"Contract {n}")
    customer = factory.SubFactory(CustomerFactory)
    service = factory.SubFactory(ServiceFactory)
    start_date = factory.LazyFunction(timezone.localdate)
    end_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    amount = Decimal("5000.00")
    signed_at = factory.LazyFunction(timezone.localdate)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    lead = factory.SubFactory(LeadFactory)
    summary = factory.Sequence(lambda n: f"Called the client, note {n:04d}")
    author = factory.LazyAttribute(lambda i: i.lead.owner)


class LeadFormFactory(factory.django.DjangoModelFactory):
    """A web form; its key (shown once in the admin) is on `raw_key`."""

    class Meta:
        model = LeadForm
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Form {n}")
    campaign = factory.SubFactory(CampaignFactory)
    owner = factory.SubFactory(UserFactory, role=Role.OPERATOR)
    required_fields = factory.LazyFunction(lambda: ["first_name"])
    key = factory.LazyAttributeSequence(lambda form, n: f"pending-{n}")

    @factory.post_generation
    def raw_key(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.raw_key = self.set_key()  # type: ignore[attr-defined]
        if create:
            self.save(update_fields=["key", "key_hint"])


class AdSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdSpend

    campaign = factory.SubFactory(CampaignFactory)
    date = factory.LazyFunction(timezone.localdate)
    amount = Decimal("100.00")
    source = "yandex"
