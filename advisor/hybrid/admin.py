from django.contrib import admin

from advisor.hybrid.models import HybridPolicy


@admin.register(HybridPolicy)
class HybridPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "owner", "target_kind", "target_value", "created_at"]
    list_filter = ["target_kind"]
    list_select_related = ["owner", "slm", "llm"]
    raw_id_fields = ["source_evaluation"]
    readonly_fields = ["figures", "created_at"]
