from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from crm_models.views import capture_view, demo_landing_view
from dashboards.charts import admin_charts_urlpatterns

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # django-admin-charts, each view behind the admin login and a permission check.
    path(f"{settings.ADMIN_URL}charts/", include(admin_charts_urlpatterns())),
    path(settings.ADMIN_URL, admin.site.urls),
    # Web forms post leads here from outside the admin (issue 21).
    path("capture/<str:key>/", capture_view, name="capture"),
    # 404 unless CAPTURE_DEMO_PAGE is on (local settings only).
    path("demo/landing/", demo_landing_view, name="demo_landing"),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
