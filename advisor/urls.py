from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    # Browsers ask for /favicon.ico on pages that do not name an icon (JSON, the admin): no 404 for them.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"), permanent=True)),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("advisor.web.urls")),
    path("", include("advisor.evaluations.urls")),
    path("", include("advisor.hybrid.urls")),
    path("", include("advisor.tokens.urls")),
    path("", include("advisor.gateway.urls")),
]
