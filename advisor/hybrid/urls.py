from django.urls import path

from . import api

urlpatterns = [
    path("api/evaluations/<str:evaluation_id>/hybrid", api.evaluation_hybrid_api, name="api-evaluation-hybrid"),
]
