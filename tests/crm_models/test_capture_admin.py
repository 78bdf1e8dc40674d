"""Web forms and their requests in the admin, as each role."""

import hashlib
import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from crm_models.capture_models import CaptureOutcome, CaptureSubmission, LeadForm
from tests.factories import CampaignFactory, LeadFormFactory

pytestmark = pytest.mark.django_db

FORMS = "/admin/crm_models/leadform/"
SUBMISSIONS = "/admin/crm_models/capturesubmission/"
SPEND = "/admin/crm_models/adspend/"


def form_data(campaign_id: int, owner_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Landing",
        "campaign": campaign_id,
        "owner": owner_id,
        "is_active": "on",
        "allowed_origins": "https://www.example.com/\nHTTPS://Shop.Example.com",
        "redirect_url": "https://www.example.com/thanks/",
        "required_fields": ["first_name", "phone"],
        "honeypot_field": "website",
        **extra,
    }


def test_the_key_is_shown_once_on_creation_and_only_its_hash_is_stored(
    marketer: User, operator: User, client_for: Any
) -> None:
    campaign = CampaignFactory()
    client = client_for(marketer)

    response = client.post(f"{FORMS}add/", form_data(campaign.pk, operator.pk), follow=True)

    form = LeadForm.objects.get()
    (message,) = [str(m) for m in response.context["messages"] if "shown only this once" in str(m)]
    key = re.search(r"is (lf_\S+)\. It is shown", message).group(1)  # type: ignore[union-attr]
    assert form.key == hashlib.sha256(key.encode()).hexdigest()
    assert form.key_hint == key[-4:]
    assert f"http://testserver/capture/{key}/" in message
    assert form.allowed_origins == "https://www.example.com\nhttps://shop.example.com"
    assert form.required_fields == ["first_name", "phone"]
    page = client.get(f"{FORMS}{form.pk}/change/").content.decode()
    assert key not in page


def test_rotating_the_key_stops_the_old_one(marketer: User, client_for: Any, client: Any) -> None:
    form = LeadFormFactory()
    old_key = form.raw_key  # type: ignore[attr-defined]

    client_for(marketer).post(
        f"{FORMS}{form.pk}/change/",
        form_data(form.campaign_id, form.owner_id, name=form.name, rotate_key="on"),
    )

    form.refresh_from_db()
    assert form.key != hashlib.sha256(old_key.encode()).hexdigest()
    response = client.post(
        f"/capture/{old_key}/", {"email": "a@example.ru"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 404


def test_a_bad_origin_is_refused(marketer: User, operator: User, client_for: Any) -> None:
    response = client_for(marketer).post(
        f"{FORMS}add/", form_data(CampaignFactory().pk, operator.pk, allowed_origins="example.com/path")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["allowed_origins"] == [
        "“example.com/path” is not an origin: write it as https://www.example.com (no path)."
    ]
    assert not LeadForm.objects.exists()


@pytest.mark.parametrize(
    ("role", "forms", "submissions", "spend"),
    [
        ("administrator", 200, 200, 200),
        ("marketer", 200, 200, 200),
        ("manager", 403, 403, 200),
        ("operator", 403, 403, 403),
    ],
)
def test_who_opens_forms_requests_and_spend(
    role: str, forms: int, submissions: int, spend: int, request: pytest.FixtureRequest, client_for: Any
) -> None:
    client = client_for(request.getfixturevalue(role))

    assert client.get(FORMS).status_code == forms
    assert client.get(SUBMISSIONS).status_code == submissions
    assert client.get(SPEND).status_code == spend


def test_requests_are_read_only_and_their_payload_is_shown_as_text(marketer: User, client_for: Any) -> None:
    submission = CaptureSubmission.objects.create(
        form=LeadFormFactory(),
        payload={"first_name": "<img src=x onerror=alert(1)>"},
        outcome=CaptureOutcome.REJECTED,
    )
    client = client_for(marketer)

    page = client.get(f"{SUBMISSIONS}{submission.pk}/change/").content.decode()

    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert client.get(f"{SUBMISSIONS}add/").status_code == 403
    assert client.post(f"{SUBMISSIONS}{submission.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CaptureSubmission.objects.filter(pk=submission.pk).exists()


def test_processed_requests_are_not_retried(marketer: User, client_for: Any) -> None:
    submission = CaptureSubmission.objects.create(
        form=LeadFormFactory(), payload={}, outcome=CaptureOutcome.REJECTED, attempts=1
    )

    response = client_for(marketer).post(
        SUBMISSIONS, {"action": "retry_submissions", "_selected_action": [submission.pk]}, follow=True
    )

    submission.refresh_from_db()
    assert (submission.outcome, submission.attempts) == (CaptureOutcome.REJECTED, 1)
    assert [str(m) for m in response.context["messages"]] == [
        "1 selected request(s) were already processed and were left as they were."
    ]
