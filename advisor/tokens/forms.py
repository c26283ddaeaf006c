from django import forms

from .services import NAME_MAX_CHARS


class TokenForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_CHARS, help_text="What will use it, e.g. “nightly evaluation” or “CI”.")
