import math
from django import forms
from django.conf import settings

from advisor.trials.reply_length import DEFAULT_MAX_TOKENS
from advisor.recommend import LATENCIES, PRIVACIES, QUALITIES, RESIDENCIES, TARGETS, TASKS, CostAssumptions, Hardware, Needs
from advisor.trials.pricing import ASSUMPTION_FIELDS, assumptions_from_answers

DEFAULT_ASSUMPTIONS = CostAssumptions()

LABELS = {
    "chat": "General chat assistant", "customer_support": "Customer support", "summarization": "Summarization",
    "extraction": "Extraction (fields from text)", "classification": "Classification / routing", "translation": "Translation",
    "code": "Code", "creative_writing": "Creative writing", "reasoning": "Multi-step reasoning", "research": "Research / broad knowledge",
    "good_enough": "Good enough", "high": "High", "best": "The best available",
    "realtime": "Real time (under 1 s to first token)", "interactive": "Interactive (a few seconds)", "batch": "Batch (minutes are fine)",
    "phone": "Phone", "edge": "Edge device", "laptop": "Laptop", "workstation": "Workstation", "server": "Own server", "cloud": "Rented cloud GPU",
    "public": "Public", "internal": "Internal", "confidential": "Confidential", "regulated": "Regulated (must never leave our machines)",
    "any": "Anywhere", "eu": "In the EU", "us": "In the US", "on_premises": "On our premises only",
}


def _choices(values):
    return [(value, LABELS.get(value, value)) for value in values]


def _by_machine(values: dict, fmt: str) -> str:
    """'server $12,000 ($6,000 without a GPU), …': the default for each hardware, with and without a GPU."""
    parts = []
    for target in TARGETS:
        with_gpu, without = (DEFAULT_ASSUMPTIONS.machine(Hardware(target, 1, gpu)) for gpu in (1, 0))
        parts.append(f"{target} {fmt.format(values[with_gpu])}" + (f" ({fmt.format(values[without])} without a GPU)" if without != with_gpu else ""))
    return ", ".join(parts)


class FiniteFloatField(forms.FloatField):
    def validate(self, value):
        super().validate(value)
        if value is not None and not math.isfinite(value):
            raise forms.ValidationError("Enter a finite number.")


class ShareField(forms.Field):
    """A share of the requests: 0.2, or a percentage such as "20 %" or "20%". A bare number is a
    share, so a bare 20 is refused with a message saying so, not read as 2,000 %."""

    widget = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number, percent = float(value), False
        else:
            text = str(value).strip().replace(",", ".")
            percent = text.endswith("%")
            try:
                number = float(text.removesuffix("%").strip())
            except ValueError:
                raise forms.ValidationError("Enter a share such as 0.2, or a percentage such as 20 %.") from None
        if not math.isfinite(number):
            raise forms.ValidationError("Enter a finite number.")
        if percent:
            if not 0 <= number <= 100:
                raise forms.ValidationError("A percentage runs from 0 % to 100 %.")
            return number / 100
        if not 0 <= number <= 1:
            raise forms.ValidationError(
                f"A share runs from 0 to 1: for {number:g} %, write {number / 100:g} or {number:g} % "
                f"(a bare {number:g} would mean {number * 100:,.0f} %)." if 1 < number <= 100 else "A share runs from 0 to 1, e.g. 0.2 or 20 %."
            )
        return number


class DeviceField(forms.CharField):
    """A device of the catalogue, by slug (checked against the cached catalogue: no query per answer)."""

    def validate(self, value):
        super().validate(value)
        from .advice import catalogue_devices

        if value and value not in {d.slug for d in catalogue_devices()}:
            raise forms.ValidationError("Pick a device from the catalogue (see /catalogue/), or leave it empty and give the hardware class.")


class AdvisorAnswers:
    """What the advisor's answers mean, from `cleaned_data`: shared by AdvisorForm and, without a
    form, by the API (see `advisor_answers_clean`)."""

    cleaned_data: dict

    ASSUMPTION_FIELDS = ASSUMPTION_FIELDS

    def assumptions(self) -> CostAssumptions:
        given = {name: self.cleaned_data.get(name) for name in self.ASSUMPTION_FIELDS}
        return assumptions_from_answers(given, self.needs().hardware)

    def needs(self) -> Needs:
        data = self.cleaned_data
        return Needs(
            task=data["task"], quality=data["quality"], latency=data["latency"],
            requests_per_day=data["requests_per_day"], input_tokens=data["input_tokens"], output_tokens=data["output_tokens"],
            budget_usd_month=data["budget_usd_month"],
            hardware=Hardware(target=data["hardware_target"], ram_gb=data["hardware_ram_gb"], gpu_vram_gb=data["hardware_gpu_vram_gb"],
                              device=data.get("hardware_device") or None, count=data.get("hardware_count") if data.get("hardware_device") else None),
            privacy=data["privacy"], offline=data["offline"], fine_tuning=data["fine_tuning"], complex_share=data["complex_share"],
            residency=data.get("residency") or "any",
        )

    def answers(self) -> dict:
        """The answers in the API's shape (nested hardware), as saved with a recommendation."""
        data = dict(self.cleaned_data)
        data["hardware"] = {key: data.pop(f"hardware_{key}") for key in ("target", "ram_gb", "gpu_vram_gb")}
        device, count = data.pop("hardware_device", None), data.pop("hardware_count", None)
        if device:
            data["hardware"] |= {"device": device, "count": count or 1}
        if data.pop("hardware_this_machine"):
            data["hardware"]["this_machine"] = True
        assumptions = {name: data.pop(name) for name in self.ASSUMPTION_FIELDS}
        if any(value is not None for value in assumptions.values()):
            data["assumptions"] = {name: value for name, value in assumptions.items() if value is not None}
        return data


class AdvisorForm(AdvisorAnswers, forms.Form):
    """The advisor's questions. The API flattens its `hardware` object into the hardware_* fields."""

    task = forms.ChoiceField(choices=_choices(TASKS))
    quality = forms.ChoiceField(choices=_choices(QUALITIES), initial="high")
    latency = forms.ChoiceField(choices=_choices(LATENCIES), initial="interactive")
    requests_per_day = forms.IntegerField(min_value=0, max_value=10**9, initial=1000)
    input_tokens = forms.IntegerField(min_value=0, max_value=10**7, initial=500, help_text="Average per request")
    output_tokens = forms.IntegerField(min_value=0, max_value=10**7, initial=200, help_text="Average per request")
    budget_usd_month = FiniteFloatField(label="Monthly budget for API spend (USD)", min_value=0, max_value=1e9, initial=500, help_text="0: no money for per-token API spend")
    hardware_target = forms.ChoiceField(label="Hardware", choices=_choices(TARGETS), initial="server")
    hardware_ram_gb = FiniteFloatField(label="RAM (GB)", min_value=0, max_value=1e5, initial=32)
    hardware_gpu_vram_gb = FiniteFloatField(label="GPU memory (GB)", min_value=0, max_value=1e5, initial=0, help_text="0: no GPU")
    hardware_device = DeviceField(label="Your device", required=False, max_length=100,
                                  help_text="The accelerator or host you have (from the device catalogue); empty: a typical device of the class above")
    hardware_count = forms.IntegerField(label="How many", required=False, min_value=1, max_value=4096, initial=1,
                                        help_text="Devices of that kind you can run models on")
    # Set by "Use this server's hardware": while the hardware answers are still the server's, the
    # advice uses its measured speed (calibrated on the runs made here), saved answer included.
    hardware_this_machine = forms.BooleanField(required=False, widget=forms.HiddenInput)
    privacy = forms.ChoiceField(choices=_choices(PRIVACIES), initial="internal")
    residency = forms.ChoiceField(label="Where data may be processed", choices=_choices(RESIDENCIES), initial="any", required=False,
                                  help_text="Hosted APIs whose provider processes data elsewhere are excluded")
    offline = forms.BooleanField(required=False, label="Must work offline")
    fine_tuning = forms.BooleanField(required=False, label="We need to fine-tune on our own data")
    complex_share = ShareField(
        required=False, label="Share of hard requests",
        help_text="The share that needs deep reasoning or creativity (optional): 0.2 or 20 %; a bare number is a share from 0 to 1",
    )

    # Cost assumptions for local hardware: shown with every answer, and changeable here.
    amortization_months = forms.IntegerField(required=False, min_value=1, max_value=120, label="Hardware written off over (months)",
                                             help_text=f"default {DEFAULT_ASSUMPTIONS.amortization_months}")
    usd_per_kwh = FiniteFloatField(required=False, min_value=0, max_value=10, label="Electricity (USD per kWh)",
                                   help_text=f"default {DEFAULT_ASSUMPTIONS.usd_per_kwh}")
    gpu_hour_usd = FiniteFloatField(required=False, min_value=0, max_value=1000, label="Rent of your device (USD per hour)",
                                    help_text="default: the device catalogue's rent for your device")
    # The next two are for the hardware chosen above; their defaults depend on it.
    machine_usd = FiniteFloatField(required=False, min_value=0, max_value=1e7, label="Price of one machine (USD)",
                                   help_text="default by hardware: " + _by_machine(DEFAULT_ASSUMPTIONS.hardware_usd, "${:,.0f}"))
    machine_watts = FiniteFloatField(required=False, min_value=0, max_value=1e5, label="Its power while generating (W)",
                                     help_text="default by hardware: " + _by_machine(DEFAULT_ASSUMPTIONS.watts, "{:,.0f} W"))
    max_parallel_requests = forms.IntegerField(required=False, min_value=1, max_value=256, label="Requests a GPU serves at once",
                                               help_text=f"default {DEFAULT_ASSUMPTIONS.max_parallel_requests} (batching); CPUs serve one")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            # Each answer's error box (filled in by the live update too) describes its input.
            if not field.widget.is_hidden:
                field.widget.attrs.setdefault("aria-describedby", f"errors-{name}")

    def assumptions_given(self) -> bool:
        """Whether the user changed any cost assumption (the page then shows them open)."""
        return any(self[name].value() not in (None, "") for name in self.ASSUMPTION_FIELDS)

    @classmethod
    def initial_data(cls) -> dict:
        return {name: field.initial for name, field in cls.base_fields.items() if field.initial is not None} | {"task": "customer_support"}


class CleanAnswers(AdvisorAnswers):
    """Answers cleaned by advisor_answers_clean, with no form around them."""

    def __init__(self, cleaned_data: dict):
        self.cleaned_data = cleaned_data


def advisor_answers_clean(data: dict) -> tuple[CleanAnswers | None, dict[str, list[str]]]:
    """AdvisorForm's validation (its fields' own rules, in its order) without building a form:
    the form's per-request deep copy of its fields and widgets, there to render them, was a sixth
    of an /api/recommend request. (answers, {}) when valid, (None, errors by field) when not."""
    cleaned, errors = {}, {}
    for name, field in AdvisorForm.base_fields.items():
        try:
            cleaned[name] = field.clean(field.widget.value_from_datadict(data, {}, name))
        except forms.ValidationError as exc:
            errors[name] = exc.messages
    return (None if errors else CleanAnswers(cleaned)), errors


class TrialForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=settings.TRIAL_MAX_PROMPT_CHARS, strip=False)
    system = forms.CharField(label="System prompt", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=settings.TRIAL_MAX_PROMPT_CHARS)
    models = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="Two or more models, side by side")
    max_tokens = forms.IntegerField(min_value=1, max_value=settings.TRIAL_MAX_TOKENS, initial=DEFAULT_MAX_TOKENS)
    temperature = FiniteFloatField(min_value=0, max_value=2, initial=0.0)
    blind = forms.BooleanField(required=False, label="Blind: hide the model names until I vote")

    def __init__(self, *args, model_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = model_choices

    def clean_prompt(self):
        prompt = self.cleaned_data["prompt"]
        if not prompt.strip():
            raise forms.ValidationError("Write a prompt.")
        return prompt

    def clean_models(self):
        models = self.cleaned_data["models"]
        if len(models) > settings.TRIAL_MAX_MODELS:
            raise forms.ValidationError(f"Pick at most {settings.TRIAL_MAX_MODELS} models.")
        return models
