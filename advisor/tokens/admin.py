from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "owner", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "owner__username")
    # An admin may revoke a token (set revoked_at), never see or make one: secrets are shown once, to their owner.
    fields = ("name", "prefix", "owner", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "owner", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
