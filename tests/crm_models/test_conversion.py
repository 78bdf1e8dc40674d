"""The conversion service `lead_convert` / `leads_convert` (issue 4), called
directly as from the shell: no request, so the history users come from the
service itself."""

import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.utils import timezone, translation

from crm_models.models import (
    END_BEFORE_START_MESSAGE,
    NEGATIVE_AMOUNT_MESSAGE,
    Contract,
    Customer,
    Interaction,
    InteractionKind,
    Lead,
    LeadStatus,
    Service,
)
from crm_models.services import conversion
from crm_models.services.conversion import (
    CONVERT_NOT_ALLOWED_MESSAGE,
    ContractData,
    ConversionResult,
    lead_convert,
    leads_convert,
)
from tests.crm_models import sample_documents as docs
from tests.factories import CustomerFactory, LeadFactory, ServiceFactory, UserFactory

TODAY = date(2026, 3, 2)
# SAVEPOINT (BEGIN outside a test), SELECT ... FOR UPDATE, then the customer,
# the contract, and the interaction with the lead's update, each with its
# history rows (one statement each on PostgreSQL; elsewhere two per row),
# RELEASE SAVEPOINT (COMMIT).
QUERIES_PER_LEAD = 6 if connection.vendor == "postgresql" else 11


def stored_documents() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "contracts"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def contract_data(service: Service, **changes: object) -> ContractData:
    values: dict[str, object] = {
        "service": service,
        "name": "Audit — Ivan Petrov",
        "amount": Decimal("1500.00"),
        "start_date": TODAY,
        "end_date": TODAY + timedelta(days=365),
        "signed_at": TODAY,
    }
    values.update(changes)
    return ContractData(**values)  # type: ignore[arg-type]


def history_user(model: type, pk: int) -> User | None:
    return model.history.filter(id=pk).latest("history_date").history_user  # type: ignore[attr-defined]


def assert_nothing_written(lead: Lead) -> None:
    assert not Customer.objects.filter(lead=lead).exists()
    assert not Contract.objects.filter(customer__lead=lead).exists()
    assert not Interaction.objects.filter(lead=lead).exists()
    lead.refresh_from_db()
    assert lead.converted_at is None
    assert lead.status != LeadStatus.CONVERTED


@pytest.fixture(autouse=True)
def default_language() -> None:
    """The service speaks the thread's active language; a request made by an
    earlier test in this process (LocaleMiddleware) can leave Russian active."""
    translation.deactivate()


@pytest.fixture
def service(db: None) -> Service:
    return ServiceFactory(name="Audit", price=Decimal("1500.00"))


@pytest.fixture
def lead(db: None, service: Service) -> Lead:
    return LeadFactory(first_name="Ivan", last_name="Petrov", campaign__service=service)


@pytest.mark.django_db
def test_converts_lead_into_customer_with_contract(manager: User, lead: Lead, service: Service) -> None:
    before = timezone.now()
    outcome = lead_convert(
        lead_id=lead.pk,
        acting_user=manager,
        contract=contract_data(service, document=docs.upload("signed.pdf", docs.PDF)),
    )

    assert outcome.result == ConversionResult.CONVERTED
    assert outcome.lead_name == "Ivan Petrov"
    customer = Customer.objects.get()
    assert (customer.lead_id, customer.account_manager_id) == (lead.pk, manager.pk)
    assert outcome.customer == customer
    contract = Contract.objects.get()
    assert outcome.contract == contract
    assert (contract.customer_id, contract.service_id, contract.name, contract.amount) == (
        customer.pk,
        service.pk,
        "Audit — Ivan Petrov",
        Decimal("1500.00"),
    )
    assert (contract.start_date, contract.end_date, contract.signed_at) == (
        TODAY,
        TODAY + timedelta(days=365),
        TODAY,
    )
    with contract.document.open("rb") as stored:
        assert stored.read() == docs.PDF
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert lead.converted_at is not None
    assert lead.converted_at >= before
    interaction = Interaction.objects.get(lead=lead)
    assert (interaction.kind, interaction.author_id) == (InteractionKind.NOTE, manager.pk)
    assert interaction.summary == (
        "Converted to a customer: contract “Audit — Ivan Petrov” for Audit, amount 1,500.00\u00a0₽."
    )
    for model, pk in [
        (Customer, customer.pk),
        (Contract, contract.pk),
        (Interaction, interaction.pk),
        (Lead, lead.pk),
    ]:
        assert history_user(model, pk) == manager


@pytest.mark.django_db
def test_history_rows_hold_each_written_row_as_saved(manager: User, lead: Lead, service: Service) -> None:
    # The rows and their history rows are written by hand-built SQL on
    # PostgreSQL: each history row must be what simple-history would write.
    outcome = lead_convert(lead_id=lead.pk, acting_user=manager, contract=contract_data(service))
    assert outcome.customer is not None
    assert outcome.contract is not None
    lead.refresh_from_db()
    interaction = Interaction.objects.get(lead=lead)
    for model, pk, kind in [
        (Customer, outcome.customer.pk, "+"),
        (Contract, outcome.contract.pk, "+"),
        (Interaction, interaction.pk, "+"),
        (Lead, lead.pk, "~"),
    ]:
        history = model.history  # type: ignore[attr-defined]
        tracked = [field.attname for field in history.model.tracked_fields]
        row = history.filter(id=pk).latest("history_date")
        assert (row.history_type, row.history_user, row.history_change_reason) == (kind, manager, "")
        assert row.history_date == lead.converted_at
        assert {name: getattr(row, name) for name in tracked} == model.objects.values(*tracked).get(pk=pk)
    assert Lead.history.filter(id=lead.pk).count() == 2  # type: ignore[attr-defined]


def test_nothing_else_listens_to_the_saves_a_conversion_bypasses() -> None:
    # On PostgreSQL the conversion writes its rows without Model.save, so no
    # save signal is sent: the only receiver, simple-history's, must stay the
    # only one (its history row is written by the conversion itself).
    for model in (Customer, Contract, Interaction, Lead):
        receivers = [
            f"{receiver.__module__}.{receiver.__qualname__}"
            for signal in (pre_save, post_save)
            for receiver_list in signal._live_receivers(model)
            for receiver in receiver_list
        ]
        assert receivers == ["simple_history.models.HistoricalRecords.post_save"], model


@pytest.mark.django_db
def test_already_converted_lead_is_skipped(manager: User, manager2: User, service: Service) -> None:
    customer = CustomerFactory(account_manager=manager2, lead__first_name="Anna", lead__last_name="Smirnova")
    outcome = lead_convert(lead_id=customer.lead_id, acting_user=manager, contract=contract_data(service))
    assert (outcome.result, outcome.lead_name) == (ConversionResult.ALREADY_CONVERTED, "Anna Smirnova")
    assert list(Customer.objects.all()) == [customer]
    assert not Contract.objects.exists()
    assert not Interaction.objects.exists()


@pytest.mark.django_db
def test_lead_with_a_customer_but_not_marked_converted_is_already_converted(
    manager: User, manager2: User, lead: Lead, service: Service
) -> None:
    # A customer made by hand (customer form) leaves the lead's status alone;
    # the database's one-to-one still forbids a second customer.
    existing = Customer.objects.create(lead=lead, account_manager=manager2)
    files_before = stored_documents()
    outcome = lead_convert(
        lead_id=lead.pk,
        acting_user=manager,
        contract=contract_data(service, document=docs.upload("signed.pdf", docs.PDF)),
    )
    assert (outcome.result, outcome.lead_name) == (ConversionResult.ALREADY_CONVERTED, "Ivan Petrov")
    assert list(Customer.objects.all()) == [existing]
    assert not Contract.objects.exists()
    assert stored_documents() == files_before
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


@pytest.mark.django_db
def test_lost_lead_is_refused(manager: User, service: Service) -> None:
    lead = LeadFactory(status=LeadStatus.LOST)
    outcome = lead_convert(lead_id=lead.pk, acting_user=manager, contract=contract_data(service))
    assert outcome.result == ConversionResult.LOST
    assert_nothing_written(lead)
    assert lead.status == LeadStatus.LOST


@pytest.mark.django_db
def test_lead_outside_the_users_scope_is_not_found(operator2: User, lead: Lead, service: Service) -> None:
    # An operator sees only their own leads; give one the convert permission
    # to prove the service reads through the scope, not around it.
    operator2.user_permissions.add(Permission.objects.get(codename="convert_lead"))
    operator2 = User.objects.get(pk=operator2.pk)
    outcome = lead_convert(lead_id=lead.pk, acting_user=operator2, contract=contract_data(service))
    assert outcome.result == ConversionResult.NOT_FOUND
    assert_nothing_written(lead)


@pytest.mark.django_db
def test_user_with_the_permission_but_no_role_sees_no_lead(lead: Lead, service: Service) -> None:
    # visible_to gives such a user no rows at all (an empty query, never sent).
    user = UserFactory(username="no_role", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="convert_lead"))
    user = User.objects.get(pk=user.pk)
    other = LeadFactory()
    report = leads_convert(
        acting_user=user, contracts={lead.pk: contract_data(service), other.pk: contract_data(service)}
    )
    assert [outcome.result for outcome in report.outcomes] == [ConversionResult.NOT_FOUND] * 2
    assert_nothing_written(lead)
    assert_nothing_written(other)


@pytest.mark.django_db
def test_missing_lead_is_not_found(manager: User, service: Service) -> None:
    outcome = lead_convert(lead_id=987654321, acting_user=manager, contract=contract_data(service))
    assert outcome.result == ConversionResult.NOT_FOUND


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "marketer"])
def test_users_without_the_convert_permission_are_refused(
    request: pytest.FixtureRequest, role: str, lead: Lead, service: Service
) -> None:
    with pytest.raises(PermissionDenied) as raised:
        lead_convert(
            lead_id=lead.pk, acting_user=request.getfixturevalue(role), contract=contract_data(service)
        )
    assert str(raised.value) == str(CONVERT_NOT_ALLOWED_MESSAGE)
    assert_nothing_written(lead)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"end_date": TODAY - timedelta(days=1)}, {"end_date": [str(END_BEFORE_START_MESSAGE)]}),
        ({"amount": Decimal("-1")}, {"amount": [str(NEGATIVE_AMOUNT_MESSAGE)]}),
        ({"name": "  "}, {"name": ["Give the contract a name or number."]}),
        (
            {"document": docs.upload("contract.pdf", docs.HTML)},
            {
                "document": [
                    "This file is not a PDF, PNG or JPEG image, or office document "
                    "(DOCX, XLSX, ODT, ODS, DOC, XLS)."
                ]
            },
        ),
    ],
)
def test_invalid_contract_writes_nothing(
    manager: User, lead: Lead, service: Service, changes: dict, errors: dict
) -> None:
    with pytest.raises(ValidationError) as raised:
        lead_convert(lead_id=lead.pk, acting_user=manager, contract=contract_data(service, **changes))
    assert raised.value.message_dict == errors
    assert_nothing_written(lead)


@pytest.mark.django_db
def test_failure_after_the_customer_is_created_leaves_nothing_behind(
    manager: User, lead: Lead, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_save = conversion._save_as

    def save_failing_for_interactions(user: User, *, when: datetime, rows: list[conversion.RowWrite]) -> None:
        if any(isinstance(instance, Interaction) for instance, _ in rows):
            assert Customer.objects.filter(lead=lead).exists()  # the failure really comes mid-way
            assert Customer.history.exists()  # type: ignore[attr-defined]
            assert len(stored_documents()) == files_before + 1
            raise RuntimeError("disk full")
        original_save(user, when=when, rows=rows)

    files_before = len(stored_documents())
    monkeypatch.setattr(conversion, "_save_as", save_failing_for_interactions)
    with pytest.raises(RuntimeError, match="disk full"):
        lead_convert(
            lead_id=lead.pk,
            acting_user=manager,
            contract=contract_data(service, document=docs.upload("signed.pdf", docs.PDF)),
        )
    assert_nothing_written(lead)
    assert len(stored_documents()) == files_before
    assert not Customer.history.exists()  # type: ignore[attr-defined]
    assert not Contract.history.exists()  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_failure_in_the_last_write_leaves_nothing_behind(
    manager: User, lead: Lead, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_save = conversion._save_as

    def save_failing_for_the_lead(user: User, *, when: datetime, rows: list[conversion.RowWrite]) -> None:
        if any(isinstance(instance, Lead) for instance, _ in rows):
            assert Interaction.objects.filter(lead=lead).count() == 0
            assert Contract.objects.filter(customer__lead=lead).exists()
            raise RuntimeError("lead table locked")
        original_save(user, when=when, rows=rows)

    files_before = len(stored_documents())
    monkeypatch.setattr(conversion, "_save_as", save_failing_for_the_lead)
    with pytest.raises(RuntimeError, match="lead table locked"):
        lead_convert(
            lead_id=lead.pk,
            acting_user=manager,
            contract=contract_data(service, document=docs.upload("signed.pdf", docs.PDF)),
        )
    assert_nothing_written(lead)
    assert len(stored_documents()) == files_before
    for model in (Customer, Contract, Interaction):
        assert not model.history.exists()  # type: ignore[attr-defined]
    assert not Lead.history.filter(id=lead.pk, history_type="~").exists()  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_batch_reports_each_lead_and_isolates_a_failure(
    manager: User, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = LeadFactory(first_name="Ivan", last_name="Petrov")
    bad = LeadFactory(first_name="Oleg", last_name="Sidorov")
    lost = LeadFactory(status=LeadStatus.LOST)
    converted = CustomerFactory().lead
    original_save = conversion._save_as

    def save_failing_for_bad(user: User, *, when: datetime, rows: list[conversion.RowWrite]) -> None:
        if any(
            isinstance(instance, Contract) and instance.customer.lead_id == bad.pk for instance, _ in rows
        ):
            raise RuntimeError("storage offline")
        original_save(user, when=when, rows=rows)

    monkeypatch.setattr(conversion, "_save_as", save_failing_for_bad)
    report = leads_convert(
        acting_user=manager,
        contracts={lead.pk: contract_data(service) for lead in (good, bad, lost, converted)},
    )
    assert [(o.lead_id, o.result) for o in report.outcomes] == [
        (good.pk, ConversionResult.CONVERTED),
        (bad.pk, ConversionResult.FAILED),
        (lost.pk, ConversionResult.LOST),
        (converted.pk, ConversionResult.ALREADY_CONVERTED),
    ]
    assert Customer.objects.filter(lead=good).exists()
    assert_nothing_written(bad)


@pytest.mark.django_db
def test_queries_per_lead_are_constant(
    manager: User, service: Service, django_assert_num_queries: object
) -> None:
    leads = LeadFactory.create_batch(6)
    # Warm the per-user caches (roles, permissions) as a request would.
    leads_convert(acting_user=manager, contracts={leads[0].pk: contract_data(service)})
    per_lead = QUERIES_PER_LEAD
    with django_assert_num_queries(per_lead):  # type: ignore[operator]
        leads_convert(acting_user=manager, contracts={leads[1].pk: contract_data(service)})
    with django_assert_num_queries(4 * per_lead):  # type: ignore[operator]
        leads_convert(acting_user=manager, contracts={lead.pk: contract_data(service) for lead in leads[2:]})
    assert Customer.objects.count() == 6


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
@pytest.mark.django_db
def test_conversion_statements_are_prepared_and_django_cursors_restored(
    manager: User, service: Service
) -> None:
    leads = LeadFactory.create_batch(2)
    connection.ensure_connection()
    factory, threshold = connection.connection.cursor_factory, connection.connection.prepare_threshold
    leads_convert(acting_user=manager, contracts={lead.pk: contract_data(service) for lead in leads})

    assert (connection.connection.cursor_factory, connection.connection.prepare_threshold) == (
        factory,
        threshold,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements WHERE NOT from_sql")
        prepared = sorted(" ".join(row[0].split()[:4]) for row in cursor.fetchall())
    # The lock and the three writes (the role lookup too, once per user).
    assert [text for text in prepared if "auth_group" not in text] == [
        'SELECT "crm_models_lead"."id", "crm_models_lead"."created_at", "crm_models_lead"."updated_at",',
        "WITH row_0 AS (INSERT",
        "WITH row_0 AS (INSERT",
        "WITH row_0 AS (INSERT",
    ]
    # Statements outside a conversion are not prepared (Django's own setting).
    LeadFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'INSERT%%'")
        assert cursor.fetchone() == (0,)
    assert Customer.objects.filter(lead__in=leads).count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks (SELECT ... FOR UPDATE) need PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_simultaneous_conversions_of_one_lead_make_exactly_one_customer() -> None:
    threads_count = 6
    manager_ids = [
        UserFactory(username=f"t_race_manager{i}", role="Manager").pk for i in range(threads_count)
    ]
    service = ServiceFactory()
    lead = LeadFactory(campaign__service=service)
    barrier = threading.Barrier(threads_count, timeout=30)
    results: list[ConversionResult] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def convert(manager_id: int) -> None:
        try:
            acting_user = User.objects.get(pk=manager_id)
            acting_user.has_perm("crm_models.convert_lead")  # load permissions before the race
            Lead.objects.visible_to(acting_user).exists()  # and roles
            barrier.wait()
            outcome = lead_convert(lead_id=lead.pk, acting_user=acting_user, contract=contract_data(service))
            with lock:
                results.append(outcome.result)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=convert, args=(manager_id,)) for manager_id in manager_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results) == sorted(
        [ConversionResult.CONVERTED] + [ConversionResult.ALREADY_CONVERTED] * (threads_count - 1)
    )
    assert Customer.objects.filter(lead=lead).count() == 1
    assert Contract.objects.filter(customer__lead=lead).count() == 1
    assert Interaction.objects.filter(lead=lead).count() == 1
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
