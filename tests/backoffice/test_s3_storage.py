"""Contract documents and import previews on S3 (moto's server on a local port): stored
private, downloaded only through the permission-checked view, never by a URL."""

import socket
from collections.abc import Callable, Iterator

import boto3
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from moto.server import ThreadedMotoServer

from backoffice.deployment import default_storage_from_env
from crm_models.importing.pending import pending_load, pending_remove, pending_save
from crm_models.models import Contract
from tests.crm_models import sample_documents as docs
from tests.factories import ContractFactory, CustomerFactory

ClientFor = Callable[[User], Client]
BUCKET = "crm-test-documents"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's S3 API over real HTTP, so that what botocore sends and checks on
    the wire (checksums, signatures) is exercised, not an in-process mock."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_server: str, monkeypatch: pytest.MonkeyPatch, settings: pytest.FixtureRequest) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {  # type: ignore[attr-defined]
        "default": default_storage_from_env(
            {"STORAGE_URL": f"s3://{BUCKET}/media?endpoint_url={s3_server}&region_name=us-east-1"}
        ),
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def contract(s3: object, manager: User) -> Contract:
    return ContractFactory(
        name="Annual audit 2026",
        customer=CustomerFactory(account_manager=manager),
        document=docs.upload("Signed by Ivan.pdf", docs.PDF, "application/pdf"),
    )


def document_url(contract: Contract) -> str:
    return reverse("admin:crm_models_contract_document", args=[contract.pk])


@pytest.mark.django_db
def test_document_is_a_private_object_in_the_bucket(s3, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    key = f"media/{contract.document.name}"
    stored = s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == docs.PDF
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]
    assert all(grant["Grantee"]["Type"] == "CanonicalUser" for grant in grants)
    # Even a URL built by the storage is signed and expires in a minute.
    url = contract.document.url
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=60" in url


@pytest.mark.django_db
def test_document_downloads_through_the_view_from_s3(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    response = client_for(manager).get(document_url(contract))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == docs.PDF
    assert response["Content-Disposition"] == 'attachment; filename="annual-audit-2026.pdf"'
    assert response["Cache-Control"].startswith("private, no-store")


@pytest.mark.django_db
def test_document_on_s3_is_refused_outside_the_scope(
    client_for: ClientFor, manager2: User, operator: User, marketer: User, contract: Contract
) -> None:
    assert client_for(manager2).get(document_url(contract)).status_code == 404
    assert client_for(operator).get(document_url(contract)).status_code == 403
    assert client_for(marketer).get(document_url(contract)).status_code == 403
    anonymous = Client().get(document_url(contract))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_change_page_links_to_the_view_never_to_the_bucket(
    client_for: ClientFor, manager: User, contract: Contract
) -> None:
    page = client_for(manager).get(reverse("admin:crm_models_contract_change", args=[contract.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert document_url(contract) in html
    assert BUCKET not in html
    assert "X-Amz-" not in html


@pytest.mark.django_db
def test_document_missing_from_the_bucket_is_404(
    s3, client_for: ClientFor, manager: User, contract: Contract
) -> None:  # type: ignore[no-untyped-def]
    s3.delete_object(Bucket=BUCKET, Key=f"media/{contract.document.name}")
    assert client_for(manager).get(document_url(contract)).status_code == 404


def test_import_preview_is_kept_in_the_bucket(s3) -> None:  # type: ignore[no-untyped-def]
    token = pending_save({"user_id": 7, "kind": "lead", "rows": [["Анна"]]})
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"media/django-import-export/{token}"]
    assert pending_load(token, user_id=7, kind="lead") == {"user_id": 7, "kind": "lead", "rows": [["Анна"]]}
    assert pending_load(token, user_id=8, kind="lead") is None
    pending_remove(token)
    assert s3.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 0
    assert pending_load(token, user_id=7, kind="lead") is None
