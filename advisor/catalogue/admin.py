from django.contrib import admin, messages
from django.shortcuts import redirect

from .checks import provider_check
from .models import SLM_MAX_PARAMS_B, Device, LanguageModel, Provider


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "base_url", "api_key_env", "key_set", "hosted", "region")
    list_filter = ("kind", "hosted")
    search_fields = ("name", "slug", "base_url")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["check_answers"]

    @admin.display(boolean=True, description="key variable set")
    def key_set(self, provider: Provider):
        # Whether the variable is set, never its value.
        return provider.api_key_is_set if provider.api_key_env else None

    @admin.action(description="Check that the selected providers answer")
    def check_answers(self, request, queryset):
        for provider in queryset:
            ok, message = provider_check(provider)
            self.message_user(request, message, messages.SUCCESS if ok else messages.ERROR)


class SizeClassFilter(admin.SimpleListFilter):
    title = "size class"
    parameter_name = "size"

    def lookups(self, request, model_admin):
        return [("slm", f"SLM (open, ≤ {SLM_MAX_PARAMS_B} B)"), ("llm", "LLM")]

    def queryset(self, request, queryset):
        if self.value() == "slm":
            return queryset.slms()
        if self.value() == "llm":
            return queryset.llms()
        return queryset


class RunnableHereFilter(admin.SimpleListFilter):
    title = "runnable here"
    parameter_name = "runnable"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        runnable = [m.pk for m in queryset.select_related("provider") if m.runnable_here]
        return queryset.filter(pk__in=runnable) if self.value() == "yes" else queryset.exclude(pk__in=runnable)


@admin.register(LanguageModel)
class LanguageModelAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "provider", "params_b", "size_class", "context_tokens", "input_usd_per_mtok", "output_usd_per_mtok", "quality", "open_weights", "runtime", "precision", "runnable", "active")
    list_filter = (SizeClassFilter, "provider", RunnableHereFilter, "runtime", "open_weights", "active")
    list_select_related = ("provider",)
    search_fields = ("name", "slug", "remote_name", "weights")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["run_check_trial"]
    fieldsets = [
        (None, {"fields": ("slug", "name", "provider", "remote_name", "weights", "runtime", "precision", "active")}),
        ("Size and licence", {"fields": ("params_b", "context_tokens", "open_weights", "licence", "release_date")}),
        ("Prices (USD per million tokens)", {"fields": ("input_usd_per_mtok", "output_usd_per_mtok", "price_source",
                                                        "batch_discount", "batch_discount_source",
                                                        "reasoning_tokens", "reasoning_tokens_source")}),
        ("Quality", {"fields": ("quality", "quality_source", "task_scores", "task_score_sources", "good_for", "can_judge")}),
        ("Architecture (for memory estimates)", {"fields": ("layers", "kv_heads", "head_dim", "hidden_size")}),
        ("Source", {"fields": ("source_url",)}),
    ]

    @admin.display(description="class")
    def size_class(self, model: LanguageModel):
        return "SLM" if model.is_slm else "LLM"

    @admin.display(boolean=True, description="runnable here")
    def runnable(self, model: LanguageModel):
        return model.runnable_here

    @admin.action(description="Run a check trial on the selected models")
    def run_check_trial(self, request, queryset):
        from advisor.trials.services import TrialRejected, TrialRequest, trial_start

        try:
            trial = trial_start(owner=request.user, request=TrialRequest(prompt="Reply with the single word OK.", models=[m.slug for m in queryset], max_tokens=8))
        except TrialRejected as exc:
            self.message_user(request, " ".join(m for ms in exc.errors.values() for m in ms), messages.ERROR)
            return None
        self.message_user(request, "Check trial started: each column shows whether its model runs.")
        return redirect(trial)


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "memory_gb", "bandwidth_gbs", "fp16_tflops", "int8_tops", "power_w", "price_usd", "rent_usd_per_hour", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "slug", "source")
    prepopulated_fields = {"slug": ("name",)}
