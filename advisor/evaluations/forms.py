from django import forms
from django.conf import settings

from advisor.trials.reply_length import DEFAULT_MAX_TOKENS
from advisor.web.forms import FiniteFloatField
from advisor.web.models import Recommendation

from .models import Check
from .suite_input import ItemsInvalid, item_from, items_from_lines, items_from_upload

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


class SuiteNewForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    lines = forms.CharField(label="Prompts, one per line", widget=forms.Textarea(attrs={"rows": 8}), required=False, strip=False)
    upload = forms.FileField(label="…or upload a CSV or JSONL file", required=False,
                             help_text="Columns/fields: prompt, and optionally system, expected, check (exact, contains, regex, json), tags")

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return upload

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        upload, lines = data.get("upload"), data.get("lines") or ""
        try:
            items = items_from_upload(upload) if upload else items_from_lines(lines)
        except ItemsInvalid as exc:
            self.add_error("upload" if upload else "lines", exc.messages)
            return data
        if not items:
            self.add_error("lines", "Paste at least one prompt, or upload a file.")
        data["items"] = items
        return data


class SuiteEditForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class SuiteItemForm(forms.Form):
    """One row of a suite: checked by the same rules as an uploaded line (suite_input.item_from)."""

    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), strip=False, required=False)
    system = forms.CharField(label="System prompt", widget=forms.Textarea(attrs={"rows": 1}), required=False)
    expected = forms.CharField(label="Expected answer", required=False, help_text="empty: no reference check")
    check = forms.ChoiceField(choices=Check.choices, initial=Check.CONTAINS)
    tags = forms.CharField(required=False, help_text="comma-separated")

    def clean(self):
        data = super().clean()
        if self.errors or self.cleaned_data.get("DELETE"):
            return data
        if not (data.get("prompt") or "").strip():
            self.add_error("prompt", "Write a prompt, or tick “Remove” to drop this row.")
            return data
        item, problems = item_from({name: data.get(name) for name in ("prompt", "system", "expected", "check", "tags")}, "This row")
        if problems:
            raise forms.ValidationError(problems)
        data["item"] = item
        return data


class BaseSuiteItemFormSet(forms.BaseFormSet):
    def items(self) -> list[dict]:
        """The kept rows' items, in order (blank new rows are left out)."""
        return [form.cleaned_data["item"] for form in self.forms
                if form.has_changed() and not form.cleaned_data.get("DELETE") and "item" in form.cleaned_data]


def suite_item_formset(data=None, *, items=None):
    """The suite's rows as a formset, with blank rows to add to (ignored when left blank)."""
    FormSet = forms.formset_factory(SuiteItemForm, formset=BaseSuiteItemFormSet, extra=3, can_delete=True,
                                    max_num=settings.EVAL_MAX_ITEMS, validate_max=True)
    initial = [{"prompt": item.prompt, "system": item.system, "expected": item.expected or "", "check": item.check_kind,
                "tags": ", ".join(item.tags or [])} for item in items or []]
    return FormSet(data, initial=initial, prefix="items")


class EvaluationForm(forms.Form):
    suite = forms.ChoiceField()
    models = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="Two or more; the first two are compared in the review queue and by the judge")
    repeats = forms.IntegerField(min_value=1, max_value=5, initial=1)
    max_tokens = forms.IntegerField(min_value=1, max_value=settings.TRIAL_MAX_TOKENS, initial=DEFAULT_MAX_TOKENS)
    temperature = FiniteFloatField(min_value=0, max_value=2, initial=0.0)
    judge = forms.ChoiceField(required=False, help_text="A catalogue model that grades each pair, asked in both orders. "
                                                        "Models too small to judge are marked: their verdicts are mostly unreadable")
    judge_anyway = forms.BooleanField(required=False, label="Use this judge even though it is too small to judge")
    requests_per_day = forms.IntegerField(min_value=0, max_value=10**9, required=False, label="Requests per day",
                                          help_text="The volume the monthly costs are projected at")
    recommendation = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_recommendation(self):
        recommendation = self.cleaned_data.get("recommendation")
        if recommendation and not Recommendation.objects.filter(pk=recommendation).exists():
            raise forms.ValidationError("No such recommendation.")
        return recommendation

    def __init__(self, *args, suites, model_choices, judge_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite"].choices = suites
        self.fields["models"].choices = model_choices
        self.fields["judge"].choices = [("", "No judge")] + list(judge_choices)
