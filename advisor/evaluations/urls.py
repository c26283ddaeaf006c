from django.urls import path

from . import api, streams, views

urlpatterns = [
    path("suites/", views.suite_list, name="suites"),
    path("suites/new/", views.suite_new, name="suite-new"),
    path("suites/<uuid:suite_id>/", views.suite_detail, name="suite"),
    path("suites/<uuid:suite_id>/edit/", views.suite_edit, name="suite-edit"),
    path("suites/<uuid:suite_id>/duplicate/", views.suite_duplicate_view, name="suite-duplicate"),
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/new/", views.evaluation_new, name="evaluation-new"),
    path("evaluations/<uuid:evaluation_id>/", views.evaluation_report, name="evaluation"),
    path("evaluations/<uuid:evaluation_id>/events", streams.evaluation_events, name="evaluation-events"),
    path("evaluations/<uuid:evaluation_id>/cancel/", views.evaluation_cancel_view, name="evaluation-cancel"),
    path("evaluations/<uuid:evaluation_id>/retry/", views.evaluation_retry_view, name="evaluation-retry"),
    path("evaluations/<uuid:evaluation_id>/review/", views.evaluation_review, name="evaluation-review"),
    path("evaluations/<uuid:evaluation_id>.csv", views.evaluation_export_csv, name="evaluation-csv"),
    path("evaluations/<uuid:evaluation_id>.json", views.evaluation_export_json, name="evaluation-json"),
    path("api/suites", api.suites_api, name="api-suites"),
    path("api/evaluations", api.evaluations_api, name="api-evaluations"),
    path("api/evaluations/<str:evaluation_id>.csv", api.evaluation_csv_api, name="api-evaluation-csv"),
    path("api/evaluations/<str:evaluation_id>/votes", api.evaluation_votes_api, name="api-evaluation-votes"),
    path("api/evaluations/<str:evaluation_id>/retry", api.evaluation_retry_api, name="api-evaluation-retry"),
    path("api/evaluations/<str:evaluation_id>/cancel", api.evaluation_cancel_api, name="api-evaluation-cancel"),
    path("api/evaluations/<str:evaluation_id>", api.evaluation_api, name="api-evaluation"),
]
