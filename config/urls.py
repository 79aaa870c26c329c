from django.contrib import admin
from django.urls import include, path

from suggestions import views as suggestion_views
from suggestions.auth import ThrottledLoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", suggestion_views.healthz, name="healthz"),
    path("suggestions/", include("suggestions.urls")),
    path("consultations/", include("consultations.urls")),
    path("replies/", include("replies.urls")),
    path("", include("documents.urls")),
    path("", suggestion_views.home, name="home"),
]

handler400 = "suggestions.views.bad_request"
handler403 = "suggestions.views.permission_denied"
handler404 = "suggestions.views.page_not_found"
handler500 = "suggestions.views.server_error"
