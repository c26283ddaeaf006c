from django import forms

from advisor.web.forms import FiniteFloatField

from .calibration import Target

PERCENT_KINDS = ("quality", "llm_share", "miss_rate")


class CalibrationTargetForm(forms.Form):
    """What the owner asks of the cascade. Shares and quality are typed in percent; a budget in dollars."""

    # Radio buttons, not drop-downs: a closed <select> shows one line, which cut two long model names
    # to the same "SmolLM2 135M In…" on a phone; a label wraps.
    slm = forms.ChoiceField(label="Small model (answers first)", widget=forms.RadioSelect)
    llm = forms.ChoiceField(label="Large model (takes the hard ones)", widget=forms.RadioSelect)
    target_kind = forms.ChoiceField(label="Target", choices=[
        ("quality", "Keep this much of the large model's quality (%)"),
        ("llm_share", "Send at most this share of requests to the large model (%)"),
        ("monthly_budget", "Spend at most this much a month (USD)"),
        ("miss_rate", "Keep wrong answers the small model does not escalate under this share (%, 95 % confidence)"),
    ], initial="quality")
    target_value = FiniteFloatField(label="Value", min_value=0, initial=95,
                                    help_text="A percentage for quality or share (e.g. 95), dollars for a budget.")
    requests_per_day = forms.IntegerField(label="Requests a day", min_value=1, max_value=10**9,
                                          help_text="The volume the monthly figures (and a budget) are at.")

    def __init__(self, data=None, *, models: list[tuple[str, str]], **kwargs):
        super().__init__(data, **kwargs)
        self.fields["slm"].choices = models
        self.fields["llm"].choices = models

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["slm"] == data["llm"]:
            self.add_error("llm", "Choose a different model from the small one.")
        kind, value = data["target_kind"], data["target_value"]
        if kind in PERCENT_KINDS and value > 100:
            self.add_error("target_value", "A percentage is between 0 and 100.")
        return data

    def target(self) -> Target:
        data = self.cleaned_data
        value = data["target_value"] / 100 if data["target_kind"] in PERCENT_KINDS else data["target_value"]
        return Target(data["target_kind"], value, requests_per_day=data["requests_per_day"])
