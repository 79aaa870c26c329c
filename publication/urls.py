from django.urls import path

from . import views

app_name = "public"

urlpatterns = [
    path("", views.public_list, name="list"),
    path("<int:pk>/", views.public_detail, name="detail"),
    path("<int:pk>/pdf/", views.public_pdf, name="pdf"),
    path("<int:pk>/withhold/", views.withhold, name="withhold"),
    path("<int:pk>/republish/", views.republish, name="republish"),
    path("<int:pk>/redact/", views.redact, name="redact"),
]
