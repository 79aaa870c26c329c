from django.urls import path

from . import views

app_name = "consultations"

urlpatterns = [
    path("new/<int:suggestion_pk>/", views.consultation_create, name="create"),
    path("<int:pk>/", views.consultation_detail, name="detail"),
    path("<int:pk>/edit/", views.consultation_edit, name="edit"),
    path("<int:pk>/confirm/", views.consultation_confirm, name="confirm"),
    path("<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
