"""The conversion page keeps up with the manager: every service option carries
its price for the page's script, and a document chosen before a validation
error is named on its row as one to choose again."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from crm_models.models import Customer, Lead
from tests.crm_models import sample_documents as docs
from tests.crm_models.test_conversion_admin import ClientFor, form_data, start_action
from tests.factories import CampaignFactory, LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db

SCRIPT = Path(__file__).resolve().parents[2] / "crm_models" / "static" / "crm_models" / "js" / "conversion.js"


@pytest.fixture
def leads() -> list[Lead]:
    audit = ServiceFactory(name="Audit", price=Decimal("1500.00"))
    ServiceFactory(name="Hosting", price=Decimal("200.50"))
    campaign = CampaignFactory(service=audit)
    return [
        LeadFactory(first_name="Ivan", last_name="Petrov", campaign=campaign),
        LeadFactory(first_name="Maria", last_name="Ivanova", campaign=campaign),
    ]


def test_rows_carry_what_the_script_refills_from(client_for: ClientFor, manager: User, leads) -> None:
    page = start_action(client_for(manager), leads)

    html = page.content.decode()
    assert page.status_code == 200
    assert '<tr data-lead-name="Ivan Petrov">' in html
    audit = Lead.objects.get(first_name="Ivan").campaign.service
    assert (
        f'<option value="{audit.pk}" data-price="1500.00" data-price-text="1,500.00" selected>Audit</option>'
        in html
    )
    assert 'data-price="200.50" data-price-text="200.50">Hosting</option>' in html
    assert '<script src="/static/crm_models/js/conversion.js" defer></script>' in html
    assert SCRIPT.is_file()
    assert "<script>" not in html.split("</head>")[1]  # no inline script in the page's body


def test_documents_chosen_before_an_error_are_named_on_their_rows(
    client_for: ClientFor, manager: User, leads, settings, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # other tests' documents live in the shared media root
    client = client_for(manager)
    page = start_action(client, leads)
    data = form_data(
        page,
        **{
            "contracts-0-document": docs.upload("Signed Ivan.pdf", docs.PDF, "application/pdf"),
            "contracts-1-amount": "-5",
        },
    )

    response = client.post(page.wsgi_request.path, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "“Signed Ivan.pdf” was not kept because of the errors: choose it again." in html
    assert html.count("data-dropped-document") == 1
    assert [row["dropped_document"] for row in response.context["rows"]] == ["Signed Ivan.pdf", ""]
    assert not Customer.objects.exists()
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
