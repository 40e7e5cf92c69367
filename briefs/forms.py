"""The brief form and the plan-gate form; the service re-checks what matters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from briefs.models import Brief, Shot
from briefs.territories import TERRITORIES
from retrieval.selectors import visible_assets, visible_ips
from studio.roles import Role


class ReferenceChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.ip.name} · {obj.title} ({obj.get_kind_display().lower()})"


class BriefForm(forms.Form):
    ip = forms.ModelChoiceField(queryset=None, label="IP", empty_label="Choose an IP")
    title = forms.CharField(max_length=200)
    beat = forms.CharField(
        label="Script beat or visual prompt",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What happens, in a sentence or three. Each clause can become a shot.",
    )
    tone = forms.CharField(
        max_length=100, required=False, help_text="For example: tense, calm, joyful, mysterious."
    )
    shot_count = forms.IntegerField(
        label="Shots",
        min_value=1,
        max_value=24,
        initial=4,
        error_messages={
            "min_value": "Choose between 1 and 24 shots.",
            "max_value": "Choose between 1 and 24 shots.",
        },
    )
    aspect_ratio = forms.ChoiceField(choices=Brief.AspectRatio.choices, initial="16:9")
    seconds_per_shot = forms.TypedChoiceField(
        choices=Brief.ShotSeconds.choices, coerce=int, initial=6, label="Seconds per shot"
    )
    sound = forms.ChoiceField(
        choices=Brief.Sound.choices,
        initial=Brief.Sound.AMBIENCE,
        help_text="What the shots sound like. The planner writes each shot's audio line.",
        error_messages={"invalid_choice": "Choose dialogue, ambience or no sound."},
    )
    territory = forms.ChoiceField(
        choices=[("", "Choose a territory")] + [(c, f"{n} ({c})") for c, n in TERRITORIES],
        label="Release territory",
        help_text="References must be cleared here.",
    )
    release_date = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="References must be cleared on this date.",
    )
    pinned_references = ReferenceChoiceField(
        queryset=None,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text="Optional. Rights-cleared assets the shots must use; hold Ctrl or ⌘ for several.",
    )
    negative_prompt = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What must not appear.",
    )
    budget_cap = forms.DecimalField(
        required=False,
        min_value=0.01,
        max_digits=10,
        decimal_places=2,
        label="Budget cap (USD)",
        help_text="Generation stops before spending more. Leave empty for no cap.",
        error_messages={"min_value": "A budget cap must be more than zero."},
    )
    requires_plan_approval = forms.BooleanField(
        required=False,
        label="Approve the shot plan before generating",
    )
    checklist = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Approval checklist",
        help_text="One criterion per line; reviewers tick them for each take.",
    )
    required_approvals = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=5,
        label="Directors who must approve each shot",
        help_text="Different creative directors; leave empty to use the IP's number.",
    )

    def __init__(self, *args: Any, producer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the IPs the person produces for, and only those IPs' references.
        self.fields["ip"].queryset = visible_ips(producer, Role.PRODUCER).order_by("name")
        self.fields["pinned_references"].queryset = (
            visible_assets(producer, Role.PRODUCER)
            .filter(is_current=True, rights__isnull=False, rights__reference_use_allowed=True)
            .select_related("ip")
            .order_by("ip__name", "title")
        )

    def clean_release_date(self):
        value = self.cleaned_data["release_date"]
        if value < timezone.localdate():
            raise forms.ValidationError("The release date cannot be in the past.")
        return value

    def clean_checklist(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["checklist"].splitlines()]
        return [line for line in lines if line]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        ip, pinned = cleaned.get("ip"), cleaned.get("pinned_references") or []
        strangers = [asset.title for asset in pinned if ip and asset.ip_id != ip.pk]
        if strangers:
            self.add_error(
                "pinned_references",
                f"These references belong to another IP: {', '.join(strangers)}.",
            )
        return cleaned


class PlanForm(forms.Form):
    """One prompt field per planned shot, and its audio line when the brief wants sound."""

    def __init__(
        self, *args: Any, shots: list[Shot], wants_sound: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.shots = shots
        self.wants_sound = wants_sound
        for shot in shots:
            self.fields[f"shot_{shot.pk}"] = forms.CharField(
                label=f"Shot {shot.order} · {shot.camera or 'camera free'} · {shot.duration_s} s",
                initial=shot.prompt,
                widget=forms.Textarea(attrs={"rows": 3}),
                error_messages={"required": f"Shot {shot.order} needs a prompt."},
            )
            if wants_sound:
                self.fields[f"audio_{shot.pk}"] = forms.CharField(
                    label=f"Shot {shot.order} · sound",
                    initial=shot.audio,
                    max_length=500,
                    help_text="What is heard: the ambience, or the line and who says it.",
                    error_messages={"required": f"Shot {shot.order} needs an audio line."},
                )

    def prompts(self) -> dict[int, str]:
        """Return the edited prompts by shot id."""
        return {shot.pk: self.cleaned_data[f"shot_{shot.pk}"] for shot in self.shots}

    def audio_lines(self) -> dict[int, str]:
        """Return the edited audio lines by shot id (none when the brief is silent)."""
        if not self.wants_sound:
            return {}
        return {shot.pk: self.cleaned_data[f"audio_{shot.pk}"] for shot in self.shots}
