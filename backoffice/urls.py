from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from dashboards.charts import admin_charts_urlpatterns

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # django-admin-charts, each view behind the admin login and a permission check.
    path(f"{settings.ADMIN_URL}charts/", include(admin_charts_urlpatterns())),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
