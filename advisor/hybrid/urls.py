from django.urls import path

from . import api, views

urlpatterns = [
    path("evaluations/<uuid:evaluation_id>/hybrid/", views.calibration_page, name="evaluation-hybrid"),
    path("evaluations/<uuid:evaluation_id>/hybrid/policy/", views.policy_save_view, name="evaluation-hybrid-policy"),
    path("api/evaluations/<str:evaluation_id>/hybrid", api.evaluation_hybrid_api, name="api-evaluation-hybrid"),
]
