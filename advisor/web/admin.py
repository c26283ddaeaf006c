from django.contrib import admin

from .models import Recommendation


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "verdict", "created_by")
    list_filter = ("verdict",)
    readonly_fields = ("answers", "result", "verdict", "created_by", "created_at")
