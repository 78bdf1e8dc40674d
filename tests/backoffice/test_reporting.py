"""Error reports keep customer data out."""

from django.test import RequestFactory
from django.views.debug import get_default_exception_reporter_filter

from backoffice.reporting import CustomerDataReporterFilter


def test_error_reports_hide_every_post_value() -> None:
    request = RequestFactory().post(
        "/admin/crm_models/lead/add/", {"email": "ivan@x.ru", "phone": "+79161234567"}
    )
    reporter_filter = get_default_exception_reporter_filter()

    parameters = reporter_filter.get_post_parameters(request)

    assert isinstance(reporter_filter, CustomerDataReporterFilter)
    assert dict(parameters.items()) == {"email": "********************", "phone": "********************"}


def test_error_reports_hide_the_database_url() -> None:
    settings = CustomerDataReporterFilter().get_safe_settings()
    assert settings["DATABASES"]["default"]["PASSWORD"] == "********************"
    assert settings["SECRET_KEY"] == "********************"
