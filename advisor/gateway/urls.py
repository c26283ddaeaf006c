from django.urls import path

from . import views
from .api import api

urlpatterns = [
    path("policies/<uuid:family>/", views.traffic_page, name="policy-traffic"),
    # Last: /v1/..., /api/policies and the OpenAPI page at /api/docs (the other /api/ URLs come first).
    path("", api.urls),
]
