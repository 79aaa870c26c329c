from django.urls import path

from . import import_views, ledger, views

app_name = "suggestions"

urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("new/", views.suggestion_create, name="create"),
    path("report/", views.suggestion_report, name="report"),
    path("ledger.xlsx", ledger.ledger_xlsx, name="ledger_xlsx"),
    path("ledger.csv", ledger.ledger_csv, name="ledger_csv"),
    path("audit/", views.audit_log, name="audit"),
    path("import/", import_views.suggestion_import, name="import"),
    path("import/template.xlsx", import_views.import_template, name="import_template"),
    path("<int:pk>/", views.suggestion_detail, name="detail"),
    path("<int:pk>/edit/", views.suggestion_edit, name="edit"),
    path("<int:pk>/assign/", views.suggestion_assign, name="assign"),
    path("<int:pk>/extend/", views.suggestion_extend, name="extend"),
    path("<int:pk>/key-supervision/", views.suggestion_key_supervision, name="key_supervision"),
    path("<int:pk>/waive-co-opinions/", views.suggestion_waive, name="waive"),
    path("<int:pk>/co-opinion/", views.co_opinion, name="co_opinion"),
    path("<int:pk>/link/", views.suggestion_link, name="link"),
    path("<int:pk>/unlink/<int:link_pk>/", views.suggestion_unlink, name="unlink"),
    path("<int:pk>/do/<slug:name>/", views.suggestion_move, name="move"),
]
