"""Forms that parse the review board's posts."""

import json

from django import forms

from briefs.models import Take
from review.models import ClientVerdict, Decision, Playlist


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Decision.Verdict.choices)
    version = forms.IntegerField(min_value=1)
    reason = forms.ChoiceField(choices=[("", "Reason…"), *Decision.Reason.choices], required=False)
    reason_text = forms.CharField(required=False, max_length=2000)
    checklist = forms.MultipleChoiceField(choices=(), required=False)
    # Set when the decision is made in a dailies session, so the playlist keeps it.
    playlist = forms.ModelChoiceField(queryset=Playlist.objects.all(), required=False)

    def __init__(self, *args, criteria: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["checklist"].choices = [(c, c) for c in criteria]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("verdict") == Decision.Verdict.REJECTED and not data.get("reason"):
            self.add_error("reason", "Choose a reason for the rejection.")
        return data

    def ticks(self) -> dict[str, bool]:
        return dict.fromkeys(self.cleaned_data.get("checklist") or [], True)


class BulkDecisionForm(forms.Form):
    verdict = forms.ChoiceField(choices=Decision.Verdict.choices)
    selected = forms.MultipleChoiceField(choices=(), error_messages={"required": "Select takes."})
    reason = forms.ChoiceField(choices=[("", "Reason…"), *Decision.Reason.choices], required=False)
    reason_text = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Each value is "take_pk:version", so every take is checked against what was seen.
        self.fields["selected"].choices = [(v, v) for v in self.data.getlist("selected", [])]

    def clean_selected(self) -> list[tuple[int, int]]:
        pairs = []
        for value in self.cleaned_data["selected"]:
            take_id, _, version = value.partition(":")
            if not (take_id.isdigit() and version.isdigit()):
                raise forms.ValidationError("Malformed selection.")
            pairs.append((int(take_id), int(version)))
        return pairs

    def clean(self) -> dict:
        data = super().clean()
        if data.get("verdict") == Decision.Verdict.REJECTED and not data.get("reason"):
            self.add_error("reason", "Choose one reason for the rejected takes.")
        return data


class NoteForm(forms.Form):
    body = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    timecode_start = forms.FloatField(min_value=0)
    timecode_end = forms.FloatField(min_value=0, required=False)
    rect = forms.CharField(required=False, widget=forms.HiddenInput)
    about_sound = forms.BooleanField(required=False, label="About the sound")

    def clean_rect(self) -> dict | None:
        raw = self.cleaned_data.get("rect") or ""
        if not raw.strip():
            return None
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise forms.ValidationError("The frame region is not valid JSON.") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The frame region must be an object.")
        return value


class RepromptForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), max_length=4000)
    negative_prompt = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )
    audio = forms.CharField(
        label="Audio line",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=2000,
    )
    references = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )
    answers = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, reference_choices=(), notes=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["references"].choices = [(str(a.pk), a.title) for a in reference_choices]
        self.fields["answers"].choices = [(str(note.pk), note.body) for note in notes]


class QueueFilterForm(forms.Form):
    ip = forms.CharField(required=False)
    brief = forms.IntegerField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            (Take.Status.ROUTED, "Routed to a human"),
            (Take.Status.READY, "Ready"),
        ],
    )
    reason = forms.CharField(required=False, max_length=100)


class CompareForm(forms.Form):
    a = forms.IntegerField()
    b = forms.IntegerField()


class DailiesFilterForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class PlaylistForm(forms.Form):
    name = forms.CharField(max_length=200)
    shots = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, error_messages={"required": "Pick shots."}
    )

    def __init__(self, *args, shot_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shots"].choices = [(str(pk), str(pk)) for pk in shot_ids]


class ReviewLinkForm(forms.Form):
    """A producer's new client link: who for, how long, which shots, and an optional password."""

    label = forms.CharField(
        label="For whom", max_length=200, help_text="e.g. the agency or the client's name"
    )
    days = forms.IntegerField(label="Expires after (days)", min_value=1)
    password = forms.CharField(
        label="Password (optional)",
        required=False,
        max_length=128,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Send it separately from the link.",
    )
    shots = forms.MultipleChoiceField(
        label="Shots",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked shares every shot of the brief.",
    )
    watermark = forms.BooleanField(
        label="Show the viewer's name over the player", required=False, initial=True
    )

    def __init__(self, *args, shots=(), default_days: int = 14, max_days: int = 90, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["shots"].choices = [(str(s.pk), f"Shot {s.order}") for s in shots]
        self.fields["days"].initial = default_days
        self.fields["days"].widget.attrs["max"] = max_days
        self.max_days = max_days

    def clean_days(self) -> int:
        days = self.cleaned_data["days"]
        if days > self.max_days:
            raise forms.ValidationError(f"A link may live at most {self.max_days} days.")
        return days


class ClientGateForm(forms.Form):
    """What a client gives on first opening a link: their name, and the password if there is one."""

    name = forms.CharField(label="Your name", max_length=100)
    password = forms.CharField(
        label="Password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, needs_password: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not needs_password:
            del self.fields["password"]


class ClientNoteForm(forms.Form):
    body = forms.CharField(max_length=4000)
    timecode_start = forms.FloatField(min_value=0)


class ClientVerdictForm(forms.Form):
    verdict = forms.ChoiceField(choices=ClientVerdict.Verdict.choices)
    comment = forms.CharField(required=False, max_length=4000)
