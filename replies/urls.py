from django.urls import path

from . import views

app_name = "replies"

urlpatterns = [
    path("new/<int:suggestion_pk>/", views.reply_create, name="create"),
    path("<int:pk>/", views.reply_detail, name="detail"),
    path("<int:pk>/edit/", views.reply_edit, name="edit"),
    path("<int:pk>/submit/", views.reply_submit, name="submit"),
    path("<int:pk>/return/", views.reply_return, name="return"),
    path("<int:pk>/sign/", views.reply_sign, name="sign"),
    path("<int:pk>/send/", views.reply_send, name="send"),
    path("<int:pk>/evaluate/", views.reply_evaluate, name="evaluate"),
    path("<int:pk>/evaluate-paper/", views.reply_evaluate_paper, name="evaluate_paper"),
]
