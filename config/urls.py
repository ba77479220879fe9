"""Root URLs."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.views import start

urlpatterns = [
    path("", start, name="start"),
    path("evidence/", include("evidence.urls")),
    path("disputes/", include("disputes.urls")),
    path("packs/", include("packs.urls")),
    path("api/", include("api.urls")),
    path("settings/integrations/", include("api.page_urls")),
    path("settings/", include("core.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
