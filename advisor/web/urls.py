from django.urls import path

from . import api, record_views, streams, views

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("catalogue/speeds/", views.catalogue_speeds, name="catalogue-speeds"),
    path("advisor/", views.advisor, name="advisor"),
    path("recommendations/", views.recommendation_list, name="recommendations"),
    path("recommendations/<uuid:rec_id>/", record_views.recommendation, name="recommendation"),
    path("recommendations/<uuid:rec_id>/print/", record_views.recommendation_print, name="recommendation-print"),
    path("recommendations/<uuid:rec_id>/share/", record_views.recommendation_share_view, name="recommendation-share"),
    path("recommendations/<uuid:rec_id>.md", record_views.recommendation_md, name="recommendation-md"),
    path("recommendations/<uuid:rec_id>.json", record_views.recommendation_json, name="recommendation-json"),
    path("shared/recommendations/<str:token>/", record_views.shared_recommendation, name="shared-recommendation"),
    path("shared/recommendations/<str:token>/print/", record_views.shared_recommendation_print, name="shared-recommendation-print"),
    path("shared/recommendations/<str:token>.md", record_views.shared_recommendation_md, name="shared-recommendation-md"),
    path("shared/recommendations/<str:token>.json", record_views.shared_recommendation_json, name="shared-recommendation-json"),
    path("trials/", views.trial_history, name="trials"),
    path("trials/new/", views.trial_new, name="trial-new"),
    path("trials/<uuid:trial_id>/", views.trial, name="trial"),
    path("trials/<uuid:trial_id>/runs/<int:column>/", views.trial_run, name="trial-run"),
    path("trials/<uuid:trial_id>/events", streams.trial_events, name="trial-events"),
    path("trials/<uuid:trial_id>/vote/", views.trial_vote, name="trial-vote"),
    path("trials/<uuid:trial_id>/share/", views.trial_share, name="trial-share"),
    path("compare/", views.compare, name="compare"),
    path("api/health", api.health_api, name="api-health"),
    path("api/recommend", api.recommend_api, name="api-recommend"),
    path("api/recommendations/<str:rec_id>", record_views.recommendation_api, name="api-recommendation"),
    path("api/trials", api.trials_api, name="api-trials"),
    path("api/trials/<str:trial_id>", api.trial_api, name="api-trial"),
]
