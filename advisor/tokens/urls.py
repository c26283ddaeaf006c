from django.urls import path

from . import api, views

urlpatterns = [
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<uuid:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("api/tokens", api.tokens_api, name="api-tokens"),
    path("api/tokens/<str:token_id>", api.token_api, name="api-token"),
]
