from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from studio import views

handler403 = "studio.views.permission_denied"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("invitations/", include("teams.urls")),
    path("catalog/", include("retrieval.urls")),
    path("briefs/", include("briefs.urls")),
    path("review/", include("review.urls")),
    # Client review links: short, public URLs whose token is the only key.
    path("r/", include("review.client_urls")),
    path("reliability/", include("reliability.urls")),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
]
