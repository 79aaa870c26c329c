from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

import consultations.urls
import replies.urls
from documents import views as document_views
from suggestions import dashboard as suggestion_dashboard
from suggestions import todo as suggestion_todo
from suggestions import views as suggestion_views
from suggestions.auth import LoginView

# The PDF of a letter or a record is made by documents, the layer above replies and
# consultations; its URL stays in their namespaces, composed here at the top.
reply_urls = replies.urls.urlpatterns + [
    path("<int:pk>/pdf/", document_views.reply_pdf, name="pdf"),
]
consultation_urls = consultations.urls.urlpatterns + [
    path("<int:pk>/pdf/", document_views.consultation_pdf, name="pdf"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", LoginView.as_view(), name="login"),
    # Only the account pages we use: no password reset by e-mail on an intranet; admins reset
    # passwords in /admin/.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", suggestion_views.healthz, name="healthz"),
    path("suggestions/", include("suggestions.urls")),
    path("consultations/", include((consultation_urls, "consultations"))),
    path("replies/", include((reply_urls, "replies"))),
    path("notifications/", include("notifications.urls")),
    path("", include("documents.urls")),
    path("todo/", suggestion_todo.todo_page, name="todo"),
    path("dashboard/", suggestion_dashboard.dashboard, name="dashboard"),
    path("public/", include("publication.urls")),
    path("", suggestion_views.home, name="home"),
]

handler400 = "suggestions.views.bad_request"
handler403 = "suggestions.views.permission_denied"
handler404 = "suggestions.views.page_not_found"
handler500 = "suggestions.views.server_error"
