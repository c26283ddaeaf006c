"""The new-trial page's "hybrid column" choice: one of the owner's saved policies, or none."""

from django import forms

from .models import HybridPolicy

FIELD = "hybrid_policy"


def add_hybrid_field(form, user, *, initial: str | None = None) -> None:
    policies = list(HybridPolicy.objects.filter(owner=user).select_related("slm", "llm")[:50]) if user.is_authenticated else []
    if not policies:
        return  # nothing to choose: no field (and no extra tab stop) until the owner saves a policy
    choices = [("", "No hybrid column")] + [
        (str(p.id), f"{p.slm.name} → {p.llm.name} under {p.threshold:g} ({p.created_at:%Y-%m-%d})") for p in policies]
    form.fields[FIELD] = forms.ChoiceField(
        label="Hybrid column", choices=choices, required=False, initial=initial or "",
        help_text="Adds a column that runs the cascade with a saved policy: the small model drafts, the large one answers when the draft's confidence is under the threshold.")


def hybrid_spec_from_form(cleaned_data: dict):
    """Pops the field from the form's data (TrialRequest does not take it) and gives the HybridSpec, or None."""
    from advisor.trials.hybrid_run import HybridSpec

    policy = cleaned_data.pop(FIELD, "") or ""
    return HybridSpec(policy=policy) if policy else None
