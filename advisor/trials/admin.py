from django.contrib import admin

from .models import Trial, TrialRun, Vote


class TrialRunInline(admin.TabularInline):
    model = TrialRun
    extra = 0
    can_delete = False
    fields = ("position", "model_slug", "status", "ttft_ms", "total_ms", "output_tokens", "tokens_per_s", "cost_usd", "error")
    readonly_fields = fields


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ("created_at", "owner", "prompt", "status", "shared")
    list_filter = ("shared", "blind")
    search_fields = ("prompt", "owner__username")
    readonly_fields = ("owner", "prompt", "system", "max_tokens", "temperature", "created_at")
    inlines = [TrialRunInline]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ("trial", "voter", "choice", "created_at")
    list_filter = ("choice",)
