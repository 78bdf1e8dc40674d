"""Contract documents: upload checks by content and size, the scoped download
view, and no public media URL (issue 3, item 8)."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from crm_models.documents import (
    DOCUMENT_TOO_LARGE_MESSAGE,
    EMPTY_DOCUMENT_MESSAGE,
    EXTENSION_MISMATCH_MESSAGE,
    UNSUPPORTED_DOCUMENT_MESSAGE,
    validate_contract_document,
)
from crm_models.models import Contract
from tests.crm_models import sample_documents as docs
from tests.factories import ContractFactory, CustomerFactory

ClientFor = Callable[[User], Client]


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("contract.pdf", docs.PDF),
        ("scan.png", docs.PNG),
        ("scan.jpg", docs.JPEG),
        ("scan.JPEG", docs.JPEG),
        ("contract.docx", docs.DOCX),
        ("prices.xlsx", docs.XLSX),
        ("contract.odt", docs.ODT),
        ("contract.doc", docs.OLE2),
        ("prices.xls", docs.OLE2),
    ],
)
def test_accepted_documents(name: str, content: bytes) -> None:
    validate_contract_document(docs.upload(name, content))


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("contract.pdf", docs.HTML),  # HTML pretending to be a PDF
        ("contract.docx", docs.PLAIN_ZIP),  # a ZIP that is not an office document
        ("contract.exe", b"MZ\x90\x00" + b"\x00" * 60),
        ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ],
)
def test_documents_refused_by_content(name: str, content: bytes) -> None:
    with pytest.raises(ValidationError) as raised:
        validate_contract_document(docs.upload(name, content))
    assert raised.value.messages == [str(UNSUPPORTED_DOCUMENT_MESSAGE)]


def test_document_whose_name_does_not_match_its_content_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_contract_document(docs.upload("contract.docx", docs.PDF))
    assert raised.value.messages == [
        str(EXTENSION_MISMATCH_MESSAGE) % {"kind": "PDF", "extension": ".docx", "expected": ".pdf"}
    ]


def test_empty_document_is_refused() -> None:
    with pytest.raises(ValidationError) as raised:
        validate_contract_document(docs.upload("contract.pdf", b""))
    assert raised.value.messages == [str(EMPTY_DOCUMENT_MESSAGE)]


def test_document_over_the_size_limit_is_refused(settings: pytest.FixtureRequest) -> None:
    settings.CONTRACT_DOCUMENT_MAX_BYTES = 20  # type: ignore[attr-defined]
    with pytest.raises(ValidationError) as raised:
        validate_contract_document(docs.upload("contract.pdf", docs.PDF))
    assert raised.value.code == "too_large"
    assert raised.value.messages == [
        str(DOCUMENT_TOO_LARGE_MESSAGE) % {"size": f"{len(docs.PDF)}\xa0bytes", "limit": "20\xa0bytes"}
    ]
    validate_contract_document(docs.upload("small.pdf", docs.PDF[:20]))


# --- download ---------------------------------------------------------------


@pytest.fixture
def contract(manager: User) -> Contract:
    return ContractFactory(
        name="Annual audit 2026",
        customer=CustomerFactory(account_manager=manager),
        document=docs.upload("Signed by Ivan.pdf", docs.PDF, "application/pdf"),
    )


def document_url(contract: Contract) -> str:
    return reverse("admin:crm_models_contract_document", args=[contract.pk])


@pytest.mark.django_db
def test_document_is_stored_under_a_random_name(contract: Contract) -> None:
    name = Path(contract.document.name)
    assert name.parent.parts[0] == "contracts"
    assert name.suffix == ".pdf"
    assert len(name.stem) == 32
    assert "Ivan" not in contract.document.name


@pytest.mark.django_db
def test_manager_downloads_own_customers_document(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    response = client_for(manager).get(document_url(contract))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == docs.PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="annual-audit-2026.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))


@pytest.mark.django_db
def test_administrator_downloads_any_document(
    client_for: ClientFor, administrator: User, contract: Contract
) -> None:
    response = client_for(administrator).get(document_url(contract))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == docs.PDF


@pytest.mark.django_db
def test_another_managers_document_is_not_found(
    client_for: ClientFor, manager2: User, contract: Contract
) -> None:
    assert client_for(manager2).get(document_url(contract)).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator", "marketer"])
def test_roles_without_contracts_are_refused(
    client_for: ClientFor, request: pytest.FixtureRequest, role: str, contract: Contract
) -> None:
    response = client_for(request.getfixturevalue(role)).get(document_url(contract))
    assert response.status_code == 403
    assert docs.PDF not in response.content


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(contract: Contract) -> None:
    url = document_url(contract)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


@pytest.mark.django_db
def test_missing_contract_and_contract_without_document_are_not_found(
    client_for: ClientFor, manager: User
) -> None:
    client = client_for(manager)
    bare = ContractFactory(customer=CustomerFactory(account_manager=manager))
    assert client.get(document_url(bare)).status_code == 404
    assert client.get(reverse("admin:crm_models_contract_document", args=[987654321])).status_code == 404


@pytest.mark.django_db
def test_document_file_missing_from_storage_is_not_found(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    contract.document.storage.delete(contract.document.name)
    assert client_for(manager).get(document_url(contract)).status_code == 404


@pytest.mark.django_db
def test_media_files_have_no_public_url(client_for: ClientFor, manager: User, contract: Contract) -> None:
    client = client_for(manager)
    assert client.get(f"{settings.MEDIA_URL}{contract.document.name}").status_code == 404
    assert client.get(f"/media/{contract.document.name}").status_code == 404


@pytest.mark.django_db
def test_accel_redirect_hands_the_file_to_the_web_server(
    client_for: ClientFor, manager: User, contract: Contract, settings: pytest.FixtureRequest
) -> None:
    settings.DOCUMENT_ACCEL_REDIRECT_PREFIX = "/protected-documents/"  # type: ignore[attr-defined]
    response = client_for(manager).get(document_url(contract))
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == f"/protected-documents/{contract.document.name}"
    assert response["Content-Disposition"] == 'attachment; filename="annual-audit-2026.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == b""


# --- contract admin ---------------------------------------------------------


@pytest.mark.django_db
def test_contract_pages_link_to_the_download_view_not_to_media(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    client = client_for(manager)
    for url in (
        reverse("admin:crm_models_contract_changelist"),
        reverse("admin:crm_models_contract_change", args=[contract.pk]),
    ):
        body = client.get(url).content.decode()
        assert f'href="{document_url(contract)}"' in body
        assert contract.document.name not in body


def _contract_form_data(contract: Contract, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": contract.name,
        "customer": contract.customer_id,
        "service": contract.service_id,
        "amount": str(contract.amount),
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat(),
        "signed_at": contract.signed_at.isoformat(),
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_contract_form_refuses_a_bad_document_and_keeps_the_old_one(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    stored = contract.document.name
    url = reverse("admin:crm_models_contract_change", args=[contract.pk])
    response = client_for(manager).post(
        url, _contract_form_data(contract, document=docs.upload("contract.pdf", docs.HTML, "application/pdf"))
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["document"] == [str(UNSUPPORTED_DOCUMENT_MESSAGE)]
    contract.refresh_from_db()
    assert contract.document.name == stored


@pytest.mark.django_db
def test_contract_form_stores_a_valid_document(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    old = contract.document.name
    url = reverse("admin:crm_models_contract_change", args=[contract.pk])
    response = client_for(manager).post(
        url, _contract_form_data(contract, document=docs.upload("new.docx", docs.DOCX))
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.document.name != old
    assert contract.document.name.startswith("contracts/")
    assert contract.document.name.endswith(".docx")
    with contract.document.open("rb") as stored:
        assert stored.read() == docs.DOCX
