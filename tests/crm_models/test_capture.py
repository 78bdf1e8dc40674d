"""POST /capture/<key>/: every answer of DESIGN.md, nothing lost, no lead twice."""

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from crm_models.capture_models import CaptureOutcome, CaptureSubmission, LeadForm, lead_form_key_hash
from crm_models.models import Interaction, InteractionKind, Lead, LeadSource
from crm_models.services import capture as capture_service
from crm_models.views import DEMO_FORM_KEY
from crm_models.workflow_models import FollowUp
from tests.factories import CampaignFactory, LeadFactory, LeadFormFactory

pytestmark = pytest.mark.django_db

PERSON = {
    "first_name": "Anna",
    "last_name": "Smirnova",
    "email": "Anna@Example.ru",
    "phone": "8 (916) 123-45-67",
    "comment": "Call me after 6 pm",
    "utm_source": "yandex",
    "utm_medium": "cpc",
    "utm_campaign": "spring_sale",
    "utm_content": "banner-1",
    "utm_term": "crm demo",
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    # The rate-limit counters live in the (per-process) test cache.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form() -> LeadForm:
    return LeadFormFactory(name="Site form", redirect_url="https://www.example.com/thanks/")


def post_json(client: Client, form: LeadForm, data: Any, **headers: str) -> Any:
    return client.post(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        data=json.dumps(data),
        content_type="application/json",
        headers=headers,
    )


def test_new_person_gets_201_and_a_lead_with_its_first_touch(client: Client, form: LeadForm) -> None:
    campaign = CampaignFactory(utm_campaign="spring_sale")

    response = post_json(client, form, {**PERSON, "gclid": "abc"})

    lead = Lead.objects.get()
    assert response.status_code == 201
    assert response.json() == {"lead": lead.pk, "outcome": "created"}
    assert (lead.first_name, lead.last_name, lead.email, lead.phone) == (
        "Anna",
        "Smirnova",
        "anna@example.ru",
        "+79161234567",
    )
    assert lead.source == LeadSource.CAPTURE
    assert lead.campaign == campaign
    assert lead.owner == form.owner
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign, lead.utm_content, lead.utm_term) == (
        "yandex",
        "cpc",
        "spring_sale",
        "banner-1",
        "crm demo",
    )
    note = Interaction.objects.get(lead=lead)
    assert note.kind == InteractionKind.NOTE
    assert note.summary == (
        "New request through the web form “Site form”.\nUTM: yandex / cpc / spring_sale\nCall me after 6 pm"
    )
    submission = CaptureSubmission.objects.get()
    assert (submission.outcome, submission.lead, submission.response_status) == ("created", lead, 201)
    # Unknown fields are kept in the submission, not dropped.
    assert submission.payload["gclid"] == "abc"
    assert submission.client_ip == "127.0.0.1"
    assert lead.history.get().history_change_reason == "Web form “Site form”"


def test_utm_campaign_unknown_or_missing_falls_back_to_the_forms_campaign(
    client: Client, form: LeadForm
) -> None:
    CampaignFactory(utm_campaign="other")

    post_json(client, form, {**PERSON, "utm_campaign": "nobody_uses_this"})
    post_json(client, form, {"first_name": "Ivan", "email": "ivan@example.ru"})

    assert list(Lead.objects.order_by("id").values_list("campaign", flat=True)) == [
        form.campaign_id,
        form.campaign_id,
    ]


def test_utm_campaign_matches_ignoring_case(client: Client, form: LeadForm) -> None:
    campaign = CampaignFactory(utm_campaign="spring_sale")

    post_json(client, form, {**PERSON, "utm_campaign": "Spring_Sale"})

    assert Lead.objects.get().campaign == campaign


def test_known_email_is_a_duplicate_on_the_timeline_and_keeps_the_first_touch(
    client: Client, form: LeadForm
) -> None:
    lead = LeadFactory(email="anna@example.ru", phone="", utm_source="google", utm_campaign="autumn")

    response = post_json(client, form, {**PERSON, "email": " ANNA@example.RU ", "phone": ""})

    assert response.status_code == 200
    assert response.json() == {"lead": lead.pk, "outcome": "duplicate"}
    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert (lead.utm_source, lead.utm_campaign, lead.source) == ("google", "autumn", LeadSource.MANUAL)
    assert lead.last_touch is not None
    assert {key: lead.last_touch[key] for key in ("utm_source", "utm_campaign")} == {
        "utm_source": "yandex",
        "utm_campaign": "spring_sale",
    }
    assert lead.last_touch_at is not None
    assert Interaction.objects.get(lead=lead).summary.startswith(
        "Came back through the web form “Site form”."
    )
    assert CaptureSubmission.objects.get().outcome == CaptureOutcome.DUPLICATE


def test_known_phone_typed_differently_is_a_duplicate(client: Client, form: LeadForm) -> None:
    lead = LeadFactory(email="", phone="+79161234567")

    response = post_json(client, form, {"first_name": "Anna", "phone": "+7 916 123 45 67"})

    assert (response.status_code, response.json()) == (200, {"lead": lead.pk, "outcome": "duplicate"})
    assert Lead.objects.count() == 1


def test_bad_fields_get_400_per_field_and_are_kept_as_rejected(client: Client, form: LeadForm) -> None:
    response = post_json(client, form, {"first_name": "", "email": "not-an-email", "phone": "12"})

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "email": ["Enter a valid e-mail address."],
            "phone": ["Enter a valid phone number, e.g. +7 916 123-45-67."],
            "first_name": ["This field is required."],
        }
    }
    assert not Lead.objects.exists()
    submission = CaptureSubmission.objects.get()
    assert (submission.outcome, submission.response_status) == (CaptureOutcome.REJECTED, 400)
    assert submission.payload == {"first_name": "", "email": "not-an-email", "phone": "12"}


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        ('{"first_name": "An\\u0000na", "email": "a@example.ru"}', "application/json", "NUL"),
        ('{"email": "a@example.ru", "extra": {"k\\u0000": 1}}', "application/json", "NUL"),
        ("first_name=An%00na&email=a%40example.ru", "application/x-www-form-urlencoded", "NUL"),
        ('{"email": "a@example.ru", "deep": ' + "[" * 5000 + "]" * 5000 + "}", "application/json", "BODY"),
        ('{"email": "a@example.ru", "deep": ' + "[" * 20 + "]" * 20 + "}", "application/json", "BODY"),
        ('{"first_name": "A\\ud800", "email": "a@example.ru"}', "application/json", "BODY"),
        ('{"email": "a@example.ru", "\\udfff": "1"}', "application/json", "BODY"),
        ('{"email": "a@example.ru", "x": 1e999}', "application/json", "BODY"),
        ('{"email": "a@example.ru", "x": NaN}', "application/json", "BODY"),
        ('{"email": "a@example.ru", "x": -Infinity}', "application/json", "BODY"),
    ],
    ids=[
        "nul-in-a-field",
        "nul-in-a-key",
        "nul-in-a-form",
        "nested-5000",
        "nested-20",
        "lone-surrogate",
        "lone-surrogate-key",
        "huge-number",
        "nan",
        "infinity",
    ],
)
def test_fields_that_cannot_be_stored_are_refused_and_kept_as_rejected(
    client: Client, form: LeadForm, body: str, content_type: str, message: str
) -> None:
    response = client.post(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        data=body,
        content_type=content_type,
        headers={"Accept": "application/json"},
    )

    expected = {
        "NUL": "The fields may not contain NUL characters.",
        "BODY": "Send the fields as a JSON object or as a form.",
    }[message]
    assert (response.status_code, response.json()) == (400, {"errors": {"__all__": [expected]}})
    assert not Lead.objects.exists()
    submission = CaptureSubmission.objects.get()
    assert (submission.outcome, submission.payload) == ("rejected", {})


def test_an_e_mail_or_a_phone_is_always_required(client: Client, form: LeadForm) -> None:
    response = post_json(client, form, {"first_name": "Anna"})

    assert response.status_code == 400
    assert response.json() == {"errors": {"email": ["Give an e-mail or a phone number."]}}


@pytest.mark.parametrize("body", ["[1, 2]", "{not json", '"text"'])
def test_a_body_that_is_not_an_object_is_kept_as_rejected(client: Client, form: LeadForm, body: str) -> None:
    response = client.post(f"/capture/{form.raw_key}/", data=body, content_type="application/json")  # type: ignore[attr-defined]

    assert response.status_code == 400
    assert response.json() == {"errors": {"__all__": ["Send the fields as a JSON object or as a form."]}}
    assert CaptureSubmission.objects.get().outcome == CaptureOutcome.REJECTED


def test_wrong_and_inactive_keys_get_the_same_404(client: Client, form: LeadForm) -> None:
    inactive = LeadFormFactory(is_active=False)

    wrong = client.post("/capture/lf_no-such-key/", data=json.dumps(PERSON), content_type="application/json")
    off = post_json(client, inactive, PERSON)

    assert wrong.status_code == off.status_code == 404
    assert wrong.content == off.content
    assert wrong.json() == {"errors": {"__all__": ["There is no active form with this key."]}}
    assert not CaptureSubmission.objects.exists()


def test_other_methods_are_refused(client: Client, form: LeadForm) -> None:
    response = client.get(f"/capture/{form.raw_key}/")  # type: ignore[attr-defined]

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"


def test_the_same_idempotency_key_answers_the_first_answer_again(client: Client, form: LeadForm) -> None:
    first = post_json(client, form, PERSON, **{"Idempotency-Key": "order-42"})
    again = post_json(client, form, PERSON, **{"Idempotency-Key": "order-42"})

    lead = Lead.objects.get()
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() == {"lead": lead.pk, "outcome": "created"}
    assert Interaction.objects.count() == 1
    assert CaptureSubmission.objects.count() == 1


def test_an_idempotency_key_reused_with_other_fields_is_refused(client: Client, form: LeadForm) -> None:
    post_json(client, form, PERSON, **{"Idempotency-Key": "order-42"})
    other = post_json(client, form, {**PERSON, "first_name": "Olga"}, **{"Idempotency-Key": "order-42"})

    assert other.status_code == 422
    assert other.json() == {
        "errors": {"__all__": ["This Idempotency-Key was already used with other fields."]}
    }
    assert Lead.objects.get().first_name == "Anna"


def test_rate_limit_per_client_answers_429_with_retry_after(
    client: Client, form: LeadForm, settings: Any
) -> None:
    settings.CAPTURE_RATE_PER_CLIENT = "2/m"

    answers = [
        post_json(client, form, {**PERSON, "email": f"p{n}@example.ru", "phone": ""}) for n in range(3)
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    assert 1 <= int(answers[2]["Retry-After"]) <= 60
    assert answers[2].json()["errors"]["__all__"][0].startswith("Too many requests; try again in ")
    # A refused request is not stored: the limit is what keeps a flood out of the database.
    assert CaptureSubmission.objects.count() == 2


def test_rate_limit_per_form(client: Client, form: LeadForm, settings: Any) -> None:
    settings.CAPTURE_RATE_PER_FORM = "1/m"
    other_form = LeadFormFactory()

    first = post_json(client, form, {**PERSON, "phone": ""})
    second = post_json(client, form, {**PERSON, "email": "b@example.ru", "phone": ""})
    elsewhere = post_json(client, other_form, {**PERSON, "email": "c@example.ru", "phone": ""})

    assert (first.status_code, second.status_code, elsewhere.status_code) == (201, 429, 201)
    assert "Retry-After" in second


def test_a_filled_honeypot_makes_no_lead_and_looks_accepted(client: Client, form: LeadForm) -> None:
    response = post_json(client, form, {**PERSON, "website": "http://spam.example"})

    assert response.status_code == 202
    assert response.json() == {"outcome": "received"}
    assert not Lead.objects.exists()
    submission = CaptureSubmission.objects.get()
    assert submission.outcome == CaptureOutcome.REJECTED
    assert submission.errors == {"website": ["Filled in a field meant to stay empty (honeypot)."]}


def test_a_body_over_the_limit_gets_413(client: Client, form: LeadForm, settings: Any) -> None:
    settings.CAPTURE_MAX_BODY_BYTES = 1000

    response = post_json(client, form, {**PERSON, "comment": "x" * 2000})

    assert response.status_code == 413
    assert response.json() == {"errors": {"__all__": ["The request is too large (at most 1000 bytes)."]}}
    assert not Lead.objects.exists()


def test_markup_never_reaches_a_lead(client: Client, form: LeadForm) -> None:
    refused = post_json(client, form, {**PERSON, "first_name": "<script>alert(1)</script>"})
    accepted = post_json(client, form, {**PERSON, "comment": "<script>alert(1)</script>Hello <b>there</b>"})

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"first_name": ["The characters < and > are not allowed here."]}
    assert accepted.status_code == 201
    summary = Interaction.objects.get().summary
    assert "<" not in summary
    assert summary.endswith("alert(1)Hello there")


def test_browser_form_post_is_redirected_to_the_thank_you_page(client: Client, form: LeadForm) -> None:
    response = client.post(f"/capture/{form.raw_key}/", data={**PERSON, "website": ""})  # type: ignore[attr-defined]

    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks/"
    assert Lead.objects.get().email == "anna@example.ru"


def test_browser_form_post_with_errors_gets_a_page(client: Client, form: LeadForm) -> None:
    response = client.post(f"/capture/{form.raw_key}/", data={"first_name": "Anna"})  # type: ignore[attr-defined]

    assert response.status_code == 400
    assert "Give an e-mail or a phone number." in response.content.decode()


def test_cors_preflight_and_answers_for_an_allowed_origin(client: Client, form: LeadForm) -> None:
    form.allowed_origins = "https://www.example.com"
    form.save()

    preflight = client.options(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        headers={"Origin": "https://www.example.com", "Access-Control-Request-Method": "POST"},
    )
    answer = post_json(client, form, PERSON, Origin="https://www.example.com")

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert preflight["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert preflight["Access-Control-Allow-Headers"] == "Content-Type, Idempotency-Key"
    assert answer.status_code == 201
    assert answer["Access-Control-Allow-Origin"] == "https://www.example.com"


def test_other_origins_are_refused_and_kept(client: Client, form: LeadForm) -> None:
    form.allowed_origins = "https://www.example.com"
    form.save()

    preflight = client.options(f"/capture/{form.raw_key}/", headers={"Origin": "https://evil.example"})  # type: ignore[attr-defined]
    answer = post_json(client, form, PERSON, Origin="https://evil.example")

    assert preflight.status_code == 403
    assert answer.status_code == 403
    assert "Access-Control-Allow-Origin" not in answer
    assert not Lead.objects.exists()
    assert CaptureSubmission.objects.get().errors == {
        "__all__": ["Pages of this site may not post to this form."]
    }


def test_failed_processing_is_kept_and_retried_from_the_admin(
    client: Client, form: LeadForm, marketer: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: object) -> None:
        raise RuntimeError("assignment rules unavailable")

    monkeypatch.setattr(capture_service, "lead_assign_on_arrival", broken)
    response = post_json(client, form, PERSON)

    assert response.status_code == 202
    assert response.json() == {"outcome": "received"}
    assert not Lead.objects.exists()
    assert not Interaction.objects.exists()
    submission = CaptureSubmission.objects.get()
    assert (submission.outcome, submission.attempts) == (CaptureOutcome.FAILED, 1)

    monkeypatch.undo()
    retried = client_for(marketer).post(
        "/admin/crm_models/capturesubmission/",
        {"action": "retry_submissions", "_selected_action": [submission.pk]},
        follow=True,
    )

    submission.refresh_from_db()
    lead = Lead.objects.get()
    assert (submission.outcome, submission.lead, submission.attempts) == (CaptureOutcome.CREATED, lead, 2)
    assert [str(m) for m in retried.context["messages"]] == [
        "Retried 1 request(s): 1 processed, 0 failed again."
    ]


def test_the_demo_landing_page_exists_only_where_switched_on(client: Client, settings: Any) -> None:
    settings.CAPTURE_DEMO_PAGE = False
    assert client.get("/demo/landing/").status_code == 404

    settings.CAPTURE_DEMO_PAGE = True
    LeadForm.objects.filter(pk=LeadFormFactory(name="Demo").pk).update(key=lead_form_key_hash(DEMO_FORM_KEY))
    page = client.get("/demo/landing/?utm_source=yandex").content.decode()

    assert f'action="/capture/{DEMO_FORM_KEY}/"' in page
    assert 'src="/static/crm_models/capture/utm.js"' in page
    # No inline script: the page works under a Content-Security-Policy without 'unsafe-inline'.
    assert page.count("<script") == 1


def test_production_settings_leave_the_demo_page_off() -> None:
    from backoffice.settings import base

    assert base.CAPTURE_DEMO_PAGE is False


def test_the_same_person_posting_twice_at_once_gets_one_lead(
    client: Client, form: LeadForm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other request made the lead between this one's lookup and its insert:
    the unique e-mail refuses the second lead and the request becomes a duplicate."""
    existing = LeadFactory(email="anna@example.ru", phone="")
    real_find = capture_service._find_person
    calls: list[int] = []

    def find_after_the_other_request(clean: Any) -> Any:
        calls.append(1)
        return None if len(calls) == 1 else real_find(clean)

    monkeypatch.setattr(capture_service, "_find_person", find_after_the_other_request)
    response = post_json(client, form, {**PERSON, "phone": ""})

    assert (response.status_code, response.json()) == (200, {"lead": existing.pk, "outcome": "duplicate"})
    assert Lead.objects.count() == 1
    submission = CaptureSubmission.objects.get()
    assert (submission.outcome, submission.lead, submission.response_status) == ("duplicate", existing, 200)
    assert Interaction.objects.get().lead == existing
    # the first call planned for the lead that was not made went with it
    assert not FollowUp.objects.exists()
