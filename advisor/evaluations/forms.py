from django import forms
from django.conf import settings

from advisor.web.forms import FiniteFloatField
from advisor.web.models import Recommendation

from .suite_input import ItemsInvalid, items_from_jsonl, items_from_lines, items_from_upload

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
    items_jsonl = forms.CharField(label="Prompts, one JSON object per line", widget=forms.Textarea(attrs={"rows": 14}), strip=False,
                                  help_text='{"prompt": "...", "system": "...", "expected": "...", "check": "contains", "tags": ["..."]}')

    def clean_items_jsonl(self):
        try:
            items = items_from_jsonl(self.cleaned_data["items_jsonl"])
        except ItemsInvalid as exc:
            raise forms.ValidationError(exc.messages) from None
        if not items:
            raise forms.ValidationError("Give at least one prompt.")
        return items


class EvaluationForm(forms.Form):
    suite = forms.ChoiceField()
    models = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="Two or more; the first two are compared in the review queue and by the judge")
    repeats = forms.IntegerField(min_value=1, max_value=5, initial=1)
    max_tokens = forms.IntegerField(min_value=1, max_value=settings.TRIAL_MAX_TOKENS, initial=128)
    temperature = FiniteFloatField(min_value=0, max_value=2, initial=0.0)
    judge = forms.ChoiceField(required=False, help_text="A catalogue model that grades each pair, asked in both orders")
    requests_per_day = forms.IntegerField(min_value=0, max_value=10**9, required=False, label="Requests per day",
                                          help_text="The volume the monthly costs are projected at")
    recommendation = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_recommendation(self):
        recommendation = self.cleaned_data.get("recommendation")
        if recommendation and not Recommendation.objects.filter(pk=recommendation).exists():
            raise forms.ValidationError("No such recommendation.")
        return recommendation

    def __init__(self, *args, suites, model_choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite"].choices = suites
        self.fields["models"].choices = model_choices
        self.fields["judge"].choices = [("", "No judge")] + list(model_choices)
