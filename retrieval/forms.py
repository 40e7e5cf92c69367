"""Forms for the catalog pages: rights check, search filters, upload."""

from datetime import date

from django import forms
from django.utils import timezone

from retrieval.models import IP, Asset, Character
from retrieval.validation import ContentRejected, check_size


def _territory(value: str) -> str | None:
    value = (value or "").strip().upper()
    if not value:
        return None
    if len(value) != 2 or not value.isalpha():
        raise forms.ValidationError("Use a two-letter ISO 3166 code such as GB, or leave empty.")
    return value


class RightsCheckForm(forms.Form):
    """Which territory and date the page checks rights for (default: worldwide, today)."""

    territory = forms.CharField(
        required=False,
        max_length=2,
        help_text="ISO 3166 code, e.g. GB; empty checks worldwide.",
        widget=forms.TextInput(attrs={"placeholder": "Worldwide", "size": 4}),
    )
    on_date = forms.DateField(
        required=False, label="On", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_territory(self) -> str | None:
        return _territory(self.cleaned_data["territory"])

    def clean_on_date(self) -> date:
        return self.cleaned_data["on_date"] or timezone.localdate()


class SearchForm(RightsCheckForm):
    q = forms.CharField(required=False, max_length=500, label="Search")
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *Asset.Kind.choices])
    character = forms.ModelChoiceField(
        queryset=Character.objects.none(), required=False, empty_label="Any character"
    )
    include_restricted = forms.BooleanField(
        required=False,
        label="Include assets not cleared for generation",
        help_text="The pipeline never sees these; browse them here.",
    )

    def __init__(self, *args, ip: IP, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["character"].queryset = ip.characters.order_by("name")


class AssetUploadForm(forms.Form):
    """A new asset (or a new version of one) with its rights."""

    kind = forms.ChoiceField(choices=Asset.Kind.choices)
    title = forms.CharField(max_length=300)
    file = forms.FileField()
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    characters = forms.ModelMultipleChoiceField(queryset=Character.objects.none(), required=False)
    holder = forms.CharField(max_length=200, initial="Studio")
    licence = forms.CharField(max_length=200, initial="Studio-owned")
    worldwide = forms.BooleanField(required=False, initial=True)
    territories = forms.CharField(
        required=False, help_text="Comma-separated ISO 3166 codes when not worldwide."
    )
    valid_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reference_use_allowed = forms.BooleanField(
        required=False, initial=True, label="Generation may use it as a reference"
    )

    def __init__(self, *args, ip: IP, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["characters"].queryset = ip.characters.order_by("name")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Before anyone reads it: Django has spooled a large upload to disk, not to memory.
        try:
            check_size(upload.size)
        except ContentRejected as exc:
            raise forms.ValidationError(str(exc)) from exc
        return upload

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def clean_territories(self) -> list[str]:
        raw = self.cleaned_data["territories"].split(",")
        return [code for code in (_territory(t) for t in raw) if code]

    def rights(self) -> dict:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "holder",
                "licence",
                "worldwide",
                "territories",
                "valid_from",
                "valid_until",
                "reference_use_allowed",
            )
        }
