import os
from urllib.parse import urlparse

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from advisor.recommend import SLM_MAX_PARAMS_B, TASKS


env_var_name = RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "Use an environment variable's name, like OPENAI_API_KEY.")


def validate_http_url(value: str) -> None:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError("Enter an http:// or https:// URL.")


def validate_api_key_env(value: str) -> None:
    from advisor.trials.runners.endpoint_rules import api_key_env_problem

    if problem := api_key_env_problem(value):
        raise ValidationError(problem)


def validate_base_url(value: str) -> None:
    from advisor.trials.runners.endpoint_rules import base_url_problem

    if problem := base_url_problem(value):
        raise ValidationError(problem)


def validate_task_scores(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Give an object of task name → score between 0 and 1.")
    for task, score in value.items():
        if task not in TASKS:
            raise ValidationError(f"Unknown task {task!r}; use one of: {', '.join(TASKS)}.")
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not 0 <= score <= 1:
            raise ValidationError(f"The score for {task!r} must be a number between 0 and 1.")


def validate_task_sources(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("Give an object of task name → where its score comes from.")
    for task, source in value.items():
        if task not in TASKS:
            raise ValidationError(f"Unknown task {task!r}; use one of: {', '.join(TASKS)}.")
        if not isinstance(source, str):
            raise ValidationError(f"The source for {task!r} must be text (benchmark, publisher).")


def validate_task_list(value) -> None:
    if not isinstance(value, list) or any(task not in TASKS for task in value):
        raise ValidationError(f"Give a list of tasks from: {', '.join(TASKS)}.")


REGIONS = ("us", "eu")


def validate_regions(value: str) -> None:
    unknown = [part for part in value.split(",") if part.strip() not in REGIONS]
    if value and unknown:
        raise ValidationError(f"Use regions from {', '.join(REGIONS)}, comma-separated (e.g. us,eu).")


class Provider(models.Model):
    class Kind(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible HTTP API"
        TRANSFORMERS = "transformers", "Hugging Face transformers in the worker"

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    base_url = models.URLField(blank=True, validators=[validate_http_url, validate_base_url], help_text="OpenAI-compatible providers only, e.g. https://api.openai.com/v1")
    api_key_env = models.CharField(
        "API key variable", max_length=100, blank=True, validators=[env_var_name, validate_api_key_env],
        help_text="The name of the environment variable that holds the key. The key itself is never stored.",
    )
    hosted = models.BooleanField(default=True, help_text="Runs on a third party's servers (data leaves your machines).")
    region = models.CharField(
        max_length=20, blank=True, validators=[validate_regions],
        help_text="Hosted providers: where they process the data, comma-separated from us, eu (e.g. \"us,eu\" when an EU endpoint is offered); empty: not stated.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.kind == self.Kind.OPENAI and not self.base_url:
            raise ValidationError({"base_url": "An OpenAI-compatible provider needs a base URL."})
        if self.kind == self.Kind.TRANSFORMERS:
            if self.base_url:
                raise ValidationError({"base_url": "A transformers provider runs in the worker and takes no URL."})
            if self.hosted:
                raise ValidationError({"hosted": "A transformers provider runs on your own workers, so it is not hosted."})

    @property
    def api_key_is_set(self) -> bool:
        return bool(self.api_key_env and os.environ.get(self.api_key_env))


class LocalRuntime(models.TextChoices):
    TRANSFORMERS = "transformers", "Hugging Face transformers (reference)"
    ONNX_GENAI = "onnxruntime-genai", "ONNX Runtime GenAI"


class Precision(models.TextChoices):
    FP32 = "fp32", "fp32"
    FP16 = "fp16", "fp16"
    BF16 = "bf16", "bf16"
    INT8 = "int8", "int8"
    INT4 = "int4", "int4"


# A local model that names no runtime runs on the reference runtime at full precision.
DEFAULT_LOCAL_RUNTIME = LocalRuntime.TRANSFORMERS
DEFAULT_PRECISION = {LocalRuntime.TRANSFORMERS: Precision.FP32, LocalRuntime.ONNX_GENAI: Precision.INT8}
# What ONNX Runtime GenAI's model builder can produce for the CPU (fp16/bf16 are GPU precisions).
ONNX_GENAI_PRECISIONS = (Precision.FP32, Precision.INT8, Precision.INT4, Precision.FP16, Precision.BF16)
TRANSFORMERS_PRECISIONS = (Precision.FP32, Precision.FP16, Precision.BF16)


class LanguageModelQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def slms(self):
        return self.filter(open_weights=True, params_b__isnull=False, params_b__lte=SLM_MAX_PARAMS_B)

    def llms(self):
        return self.exclude(pk__in=self.slms().values("pk"))


class LanguageModel(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=120)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    remote_name = models.CharField(max_length=200, blank=True, help_text="The model id the API expects (OpenAI-compatible providers).")
    weights = models.CharField(
        max_length=300, blank=True,
        help_text="transformers models: a Hugging Face repo id, a local path, repo_or_path:FILE.gguf, or bundled:NAME.",
    )
    runtime = models.CharField(
        max_length=30, blank=True, choices=LocalRuntime.choices,
        help_text="Local models: the runtime that runs it in the worker; empty: transformers.",
    )
    precision = models.CharField(
        max_length=10, blank=True, choices=Precision.choices,
        help_text="Local models: the precision it runs at; empty: the runtime's default (transformers fp32, ONNX Runtime GenAI int8).",
    )
    params_b = models.FloatField("parameters (B)", null=True, blank=True, validators=[MinValueValidator(0)], help_text="Billions; empty where the vendor does not say.")
    active_params_b = models.FloatField(
        "active parameters (B)", null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="Mixture-of-experts models: parameters used per token (gpt-oss-120b: 5.1); empty for dense models.",
    )
    context_tokens = models.PositiveIntegerField(null=True, blank=True)
    open_weights = models.BooleanField(default=False)
    licence = models.CharField(max_length=100, blank=True)
    input_usd_per_mtok = models.FloatField("input $/Mtok", default=0, validators=[MinValueValidator(0)])
    output_usd_per_mtok = models.FloatField("output $/Mtok", default=0, validators=[MinValueValidator(0)])
    quality = models.FloatField(
        default=0.5, validators=[MinValueValidator(0)],
        help_text="General capability between 0 and 1 (e.g. MMLU ÷ 100); the advisor ranks by it.",
    )
    quality_source = models.CharField(max_length=200, blank=True)
    task_scores = models.JSONField(default=dict, blank=True, validators=[validate_task_scores], help_text="Per-task scores (0..1) overriding quality.")
    task_score_sources = models.JSONField(
        default=dict, blank=True, validators=[validate_task_sources],
        help_text="Where each per-task score comes from (benchmark, publisher), e.g. {\"reasoning\": \"MMLU-Pro, model card\"}.",
    )
    good_for = models.JSONField(default=list, blank=True, validators=[validate_task_list])
    reasoning_tokens = models.PositiveIntegerField(
        default=0, help_text="Hidden reasoning tokens a reasoning model bills as output per request, on average (0: none).",
    )
    reasoning_tokens_source = models.CharField(max_length=300, blank=True, help_text="Where that allowance comes from.")
    thinking_optional = models.BooleanField(
        default=False, help_text="The provider lets a request turn the hidden reasoning off (a thinking budget of 0, low effort).",
    )
    batch_discount = models.FloatField(
        default=0, validators=[MinValueValidator(0)],
        help_text="Share off both prices with the provider's batch API (0.5: half price), used for batch work.",
    )
    batch_discount_source = models.CharField(max_length=300, blank=True)
    layers = models.PositiveIntegerField(null=True, blank=True)
    kv_heads = models.PositiveIntegerField("KV heads", null=True, blank=True)
    head_dim = models.PositiveIntegerField(null=True, blank=True)
    hidden_size = models.PositiveIntegerField(null=True, blank=True)
    release_date = models.DateField(null=True, blank=True)
    source_url = models.URLField(blank=True, validators=[validate_http_url], help_text="Where the figures come from.")
    price_source = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    can_judge = models.BooleanField(
        default=False, help_text="Able to judge a pair of answers (LLM-as-a-judge): a frontier-class model. "
                                 "Evaluations refuse a judge without this unless asked to go ahead anyway.")
    updated_at = models.DateTimeField(auto_now=True)

    objects = LanguageModelQuerySet.as_manager()

    class Meta:
        ordering = ["provider__name", "params_b", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.quality is not None and self.quality > 1:
            raise ValidationError({"quality": "Quality is between 0 and 1."})
        if self.active_params_b is not None and self.params_b is not None and self.active_params_b > self.params_b:
            raise ValidationError({"active_params_b": "Active parameters are a part of all parameters: at most params_b."})
        if self.batch_discount is not None and self.batch_discount >= 1:
            raise ValidationError({"batch_discount": "A batch discount is a share below 1 (0.5: half price)."})
        try:
            kind = self.provider.kind
        except Provider.DoesNotExist:
            kind = None
        if kind == Provider.Kind.OPENAI and not self.remote_name:
            raise ValidationError({"remote_name": "An OpenAI-compatible model needs the model id the API expects."})
        if kind == Provider.Kind.TRANSFORMERS and not self.weights:
            raise ValidationError({"weights": "A transformers model needs weights (repo id, path or bundled:NAME)."})
        if kind == Provider.Kind.OPENAI and (self.runtime or self.precision):
            raise ValidationError({"runtime": "Runtime and precision are for models run in the worker; an API model has neither."})
        if kind == Provider.Kind.TRANSFORMERS:
            allowed = ONNX_GENAI_PRECISIONS if self.local_runtime == LocalRuntime.ONNX_GENAI else TRANSFORMERS_PRECISIONS
            if self.precision and self.precision not in allowed:
                raise ValidationError({"precision": f"{self.local_runtime} runs at {', '.join(allowed)}; {self.precision} needs the other runtime."})

    @property
    def is_slm(self) -> bool:
        return self.open_weights and self.params_b is not None and self.params_b <= SLM_MAX_PARAMS_B

    @property
    def hosted(self) -> bool:
        return self.provider.hosted

    @property
    def provider_kind(self) -> str:
        """How the model is reached: over an OpenAI-compatible API, or inside the worker."""
        return self.provider.kind

    @property
    def local_runtime(self) -> str:
        """The runtime a local model runs on (the catalogue's, or the default); empty for API models."""
        if self.provider.kind != Provider.Kind.TRANSFORMERS:
            return ""
        return self.runtime or DEFAULT_LOCAL_RUNTIME

    @property
    def local_precision(self) -> str:
        if self.provider.kind != Provider.Kind.TRANSFORMERS:
            return ""
        return self.precision or DEFAULT_PRECISION[LocalRuntime(self.local_runtime)]

    @property
    def runnable_here(self) -> bool:
        """Whether a trial can run this model on this installation without further set-up."""
        from advisor.trials.runners.weights import weights_available_offline

        if self.provider.kind == Provider.Kind.TRANSFORMERS:
            return weights_available_offline(self.weights)
        return not self.provider.api_key_env or self.provider.api_key_is_set


class Device(models.Model):
    """Hardware as teams buy and rent it: an accelerator or a CPU host, with the figures the planner
    uses (memory, memory bandwidth, compute, power, price, rent) and where they come from."""

    class Kind(models.TextChoices):
        GPU = "gpu", "GPU (own memory)"
        CPU = "cpu", "CPU host (system RAM)"
        UNIFIED = "unified", "Unified memory (Apple-style, shared by CPU and GPU)"

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    memory_gb = models.FloatField("memory (GB)", validators=[MinValueValidator(0)])
    bandwidth_gbs = models.FloatField("memory bandwidth (GB/s)", null=True, blank=True, validators=[MinValueValidator(0)])
    fp16_tflops = models.FloatField("dense FP16/BF16 TFLOPS", null=True, blank=True, validators=[MinValueValidator(0)])
    int8_tops = models.FloatField("dense INT8/FP8 TOPS", null=True, blank=True, validators=[MinValueValidator(0)])
    power_w = models.FloatField("power (W)", null=True, blank=True, validators=[MinValueValidator(0)])
    price_usd = models.FloatField("purchase price (USD)", null=True, blank=True, validators=[MinValueValidator(0)])
    rent_usd_per_hour = models.FloatField("rent (USD/hour)", null=True, blank=True, validators=[MinValueValidator(0)])
    source = models.TextField(blank=True, help_text="Where each figure comes from (data sheet, price list, rental offer).")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "memory_gb", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if self.memory_gb is not None and self.memory_gb <= 0:
            raise ValidationError({"memory_gb": "A device needs some memory to hold a model."})
