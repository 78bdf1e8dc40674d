"""`POST /capture/<key>/`: leads from web forms, outside the admin (issue 21).

The answers are DESIGN.md's ("Capture, attribution and spend"). The order of
the checks is chosen so that abuse costs little: the client's rate limit is
checked before the form is looked up (guessing keys is throttled too), the
form's own limit and the body size before anything is stored; every request
that passes them is stored (services/capture.py) before it is processed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage
from ipware import get_client_ip

from crm_models.capture_models import CaptureOutcome, CaptureSubmission, LeadForm, lead_form_key_hash
from crm_models.services.capture import capture_process, capture_receive

NOT_FOUND_MESSAGE = _("There is no active form with this key.")
RATE_LIMITED_MESSAGE = _("Too many requests; try again in %(seconds)s seconds.")
TOO_LARGE_MESSAGE = _("The request is too large (at most %(limit)s bytes).")
BAD_BODY_MESSAGE = _("Send the fields as a JSON object or as a form.")
NUL_MESSAGE = _("The fields may not contain NUL characters.")
BAD_ORIGIN_MESSAGE = _("Pages of this site may not post to this form.")
BAD_IDEMPOTENCY_KEY_MESSAGE = _("The Idempotency-Key header must be 1-200 visible ASCII characters.")
IDEMPOTENCY_IN_PROGRESS_MESSAGE = _("A request with this Idempotency-Key is still being processed.")
IDEMPOTENCY_MISMATCH_MESSAGE = _("This Idempotency-Key was already used with other fields.")

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")
ALL = "__all__"
# The fields are flat; anything nested deeper than this is refused before it is stored.
MAX_PAYLOAD_DEPTH = 16

# The demo web form's key, known to the demo landing page. demo_data gives the
# demo form this key; the page itself exists only where CAPTURE_DEMO_PAGE is on
# (local settings, never production).
DEMO_FORM_KEY = "lf_demo-landing-page"
DEMO_UTM_CAMPAIGN = "demo_landing"


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, read the way the login throttling reads it
    (settings: BEHIND_REVERSE_PROXY, AXES_IPWARE_*), so a forged
    X-Forwarded-For does not escape the rate limit."""
    address, _routable = get_client_ip(
        request,
        proxy_order="right-most",
        request_header_order=settings.AXES_IPWARE_META_PRECEDENCE_ORDER,
    )
    return address


def _limited(request: HttpRequest, group: str, value: str, rate: str) -> int:
    """Seconds until the limit lets this client/form in again; 0 if it may go on."""
    usage = get_usage(request, group=group, key=lambda _group, _request: value, rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return 0
    return max(1, int(usage["time_left"]))


def _wants_page(request: HttpRequest) -> bool:
    """A plain form post from a browser (it gets pages and redirects, not JSON)."""
    accept = request.headers.get("Accept", "")
    return request.content_type in FORM_CONTENT_TYPES and "application/json" not in accept


def _errors(status: int, errors: dict[str, list[str]], **headers: str) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def _not_found(request: HttpRequest) -> HttpResponse:
    # The same answer for a key that never existed and for an inactive form.
    if _wants_page(request):
        return render(request, "crm_models/capture/message.html", {"message": NOT_FOUND_MESSAGE}, status=404)
    return _errors(404, {ALL: [str(NOT_FOUND_MESSAGE)]})


def _rate_limited(request: HttpRequest, seconds: int) -> HttpResponse:
    message = str(RATE_LIMITED_MESSAGE) % {"seconds": seconds}
    if _wants_page(request):
        response = render(request, "crm_models/capture/message.html", {"message": message}, status=429)
    else:
        response = _errors(429, {ALL: [message]})
    response["Retry-After"] = str(seconds)
    return response


def _origin_allowed(request: HttpRequest, form: LeadForm) -> bool:
    """Requests without an Origin (servers, ad platforms' webhooks) are let in;
    browsers' only from the form's allowed origins or this site itself."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.lower()
    own = f"{request.scheme}://{request.get_host()}".lower()
    return origin == own or origin in form.origins


def _cors(response: HttpResponse, request: HttpRequest, form: LeadForm) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin.lower() in form.origins:
        response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _finite(number: str) -> float:
    """A JSON number as Python reads it, refusing what PostgreSQL's JSON
    cannot hold (1e999 reads as infinity)."""
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(number)
    return value


def _no_constant(name: str) -> None:
    raise ValueError(name)  # NaN, Infinity: not JSON, though Python reads them


def _unstorable(data: Any) -> Any:
    """Why the fields cannot be stored as they are (None: they can): a NUL
    character, which PostgreSQL's JSON refuses, or nesting deeper than
    MAX_PAYLOAD_DEPTH. Walked without recursion, whatever the depth."""
    pending = [(data, 0)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            return BAD_BODY_MESSAGE
        if isinstance(item, str):
            if "\x00" in item:
                return NUL_MESSAGE
            if not _is_utf8(item):  # a lone surrogate ("\ud800"), which JSON lets through
                return BAD_BODY_MESSAGE
        if isinstance(item, dict):
            pending.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            pending.extend((part, depth + 1) for part in item)
    return None


def _payload(request: HttpRequest) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The posted fields (every one, known or not) and the error of a body
    that could not be read or stored."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null", parse_float=_finite, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError, RecursionError):
            data = None
        if not isinstance(data, dict):
            return {}, {ALL: [str(BAD_BODY_MESSAGE)]}
    elif request.content_type in FORM_CONTENT_TYPES:
        data = {name: values[0] if len(values) == 1 else values for name, values in request.POST.lists()}
    else:
        return {}, {ALL: [str(BAD_BODY_MESSAGE)]}
    problem = _unstorable(data)
    if problem is not None:
        return {}, {ALL: [str(problem)]}
    return data, {}


def _answer(request: HttpRequest, submission: CaptureSubmission) -> HttpResponse:
    """The answer a submission got the first time (and gets again)."""
    status = submission.response_status or 202
    form = submission.form
    if _wants_page(request):
        if status >= 400:
            return render(
                request,
                "crm_models/capture/errors.html",
                {"errors": submission.errors, "form": form},
                status=status,
            )
        if form.redirect_url:
            return HttpResponseRedirect(form.redirect_url, status=303)
        return render(request, "crm_models/capture/thanks.html", {"form": form}, status=200)
    if status >= 400:
        return _errors(status, submission.errors)
    if status in (200, 201) and submission.lead_id is not None:
        outcome = CaptureOutcome.CREATED if status == 201 else CaptureOutcome.DUPLICATE
        return JsonResponse({"lead": submission.lead_id, "outcome": outcome.value}, status=status)
    # Stored but not (or not yet) turned into a lead: a failed processing or a
    # filled honeypot. Accepted either way, so a bot cannot tell them apart.
    return JsonResponse({"outcome": CaptureOutcome.RECEIVED.value}, status=202)


def _preflight(request: HttpRequest, form: LeadForm) -> HttpResponse:
    origin = request.headers.get("Origin", "")
    if origin.lower() not in form.origins:
        return HttpResponse(status=403)
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Origin"] = origin
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type, Idempotency-Key"
    response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin"
    return response


@csrf_exempt
def capture_view(request: HttpRequest, key: str) -> HttpResponse:
    if request.method not in ("POST", "OPTIONS"):
        response = HttpResponse(status=405)
        response["Allow"] = "POST, OPTIONS"
        return response
    address = client_ip(request)
    wait = _limited(request, "capture-client", address or "unknown", settings.CAPTURE_RATE_PER_CLIENT)
    if wait:
        return _rate_limited(request, wait)
    form = (
        LeadForm.objects.select_related("campaign")
        .filter(key=lead_form_key_hash(key), is_active=True)
        .first()
    )
    if form is None:
        return _not_found(request)
    if request.method == "OPTIONS":
        return _preflight(request, form)
    wait = _limited(request, "capture-form", str(form.pk), settings.CAPTURE_RATE_PER_FORM)
    if wait:
        return _cors(_rate_limited(request, wait), request, form)
    limit = settings.CAPTURE_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = limit + 1
    if declared > limit or len(request.body) > limit:
        message = str(TOO_LARGE_MESSAGE) % {"limit": limit}
        return _cors(_errors(413, {ALL: [message]}), request, form)

    payload, errors = _payload(request)
    idempotency_key = request.headers.get("Idempotency-Key", "")
    if idempotency_key and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        errors = {"Idempotency-Key": [str(BAD_IDEMPOTENCY_KEY_MESSAGE)]}
        idempotency_key = ""
    status = 400
    if not errors and not _origin_allowed(request, form):
        errors, status = {ALL: [str(BAD_ORIGIN_MESSAGE)]}, 403
    submission, created = capture_receive(
        form=form,
        payload=payload,
        client_ip=address,
        user_agent=request.headers.get("User-Agent", ""),
        idempotency_key=idempotency_key,
        errors=errors or None,
        status=status,
    )
    if not created:
        if submission.payload != payload:
            return _cors(_errors(422, {ALL: [str(IDEMPOTENCY_MISMATCH_MESSAGE)]}), request, form)
        if submission.response_status is None:
            response = _errors(409, {ALL: [str(IDEMPOTENCY_IN_PROGRESS_MESSAGE)]}, **{"Retry-After": "1"})
            return _cors(response, request, form)
    elif submission.outcome == CaptureOutcome.RECEIVED:
        submission = capture_process(submission=submission)
    return _cors(_answer(request, submission), request, form)


def demo_landing_view(request: HttpRequest) -> HttpResponse:
    """A plain landing page posting to the demo form, to try the capture in
    two clicks (README, "Web capture")."""
    if not settings.CAPTURE_DEMO_PAGE:
        raise Http404
    form_exists = LeadForm.objects.filter(key=lead_form_key_hash(DEMO_FORM_KEY), is_active=True).exists()
    context = {
        "action": reverse("capture", args=[DEMO_FORM_KEY]) if form_exists else "",
        "utm": any(name.startswith("utm_") for name in request.GET),
        "utm_campaign": DEMO_UTM_CAMPAIGN,
        # A new address each time, so that each try makes a new lead.
        "email": f"visitor-{get_random_string(6).lower()}@demo.example",
    }
    return render(request, "crm_models/capture/demo_landing.html", context)
