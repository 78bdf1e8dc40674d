"""Who reaches the import and export pages: a grid of role x model x page."""

import pytest
from django.urls import NoReverseMatch, reverse

from crm_models.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

IMPORTERS = {
    "lead": {Role.ADMINISTRATOR, Role.MARKETER},
    "service": {Role.ADMINISTRATOR, Role.MARKETER},
    "campaign": {Role.ADMINISTRATOR, Role.MARKETER},
}
EXPORTERS = {
    "lead": {Role.ADMINISTRATOR, Role.MARKETER},
    "service": {Role.ADMINISTRATOR, Role.MARKETER},
    "campaign": {Role.ADMINISTRATOR, Role.MARKETER},
    "customer": {Role.ADMINISTRATOR, Role.MANAGER},
    "contract": {Role.ADMINISTRATOR, Role.MANAGER},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("model", sorted(IMPORTERS))
@pytest.mark.parametrize(
    ("page", "method", "args"),
    [
        ("import", "get", ()),
        ("process_import", "post", ()),
        ("import_template", "get", ("csv",)),
        ("import_errors", "get", ("0" * 32,)),
    ],
)
def test_import_pages(client_for, role: Role, model: str, page: str, method: str, args: tuple) -> None:
    user = UserFactory(username=f"t_{role.lower()}", role=role)

    response = getattr(client_for(user), method)(reverse(f"admin:crm_models_{model}_{page}", args=args))

    if role not in IMPORTERS[model]:
        assert response.status_code == 403
    elif page == "import_errors":
        assert response.status_code == 404  # no such preview
    elif page == "process_import":
        assert response.status_code == 302  # no token: back to the upload form
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("model", sorted(EXPORTERS))
def test_export_page(client_for, role: Role, model: str) -> None:
    user = UserFactory(username=f"t_{role.lower()}", role=role)

    response = client_for(user).get(reverse(f"admin:crm_models_{model}_export"))

    assert response.status_code == (200 if role in EXPORTERS[model] else 403)


@pytest.mark.parametrize("model", ["customer", "contract"])
def test_customers_and_contracts_have_no_import(model: str) -> None:
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:crm_models_{model}_import")


def test_changelist_shows_the_buttons_only_to_those_allowed(client_for, operator, marketer) -> None:
    url = reverse("admin:crm_models_lead_changelist")
    import_url = reverse("admin:crm_models_lead_import").encode()
    export_url = reverse("admin:crm_models_lead_export").encode()

    operator_page = client_for(operator).get(url).content
    marketer_page = client_for(marketer).get(url).content

    assert import_url not in operator_page
    assert export_url not in operator_page
    assert import_url in marketer_page
    assert export_url in marketer_page


def test_import_template_has_the_expected_header(client_for, marketer) -> None:
    response = client_for(marketer).get(reverse("admin:crm_models_lead_import_template", args=["csv"]))

    assert response["Content-Disposition"] == 'attachment; filename="lead-import-template.csv"'
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "First name,Last name,E-mail,Phone,Company,Campaign,Notes,ID,Created",
        "Anna,Smirnova,anna@example.ru,8 916 123-45-67,,Spring search,,,",
    ]


def test_import_records_are_read_only_for_marketers(client_for, marketer, operator) -> None:
    from crm_models.models import ImportRecord

    record = ImportRecord.objects.create(
        user=marketer,
        kind="lead",
        file_name="a.csv",
        file_sha256="0" * 64,
        file_size=1,
        file_format="csv",
        duplicate_mode="skip",
        rows_total=1,
        created_count=1,
        updated_count=0,
        skipped_count=0,
    )
    change_url = reverse("admin:crm_models_importrecord_change", args=[record.pk])

    assert client_for(marketer).get(reverse("admin:crm_models_importrecord_changelist")).status_code == 200
    assert client_for(marketer).post(change_url, {"file_name": "b.csv"}).status_code == 403
    assert client_for(operator).get(reverse("admin:crm_models_importrecord_changelist")).status_code == 403
    record.refresh_from_db()
    assert record.file_name == "a.csv"
