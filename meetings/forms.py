"""Dashboard forms: parsing and validation only; saving goes through meetings.services."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from meetings.exports import ExportFormat
from meetings.models import ActionItem, Meeting, Participant


def _blank(label: str, choices: Any) -> list[tuple[str, str]]:
    return [("", label), *choices]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class MeetingForm(forms.Form):
    title = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"placeholder": "Weekly sync with Acme",
                                                                          "autofocus": True}))
    platform = forms.ChoiceField(choices=Meeting.Platform.choices, initial=Meeting.Platform.GOOGLE_MEET)
    kind = forms.ChoiceField(choices=Meeting.Kind.choices, initial=Meeting.Kind.INTERNAL,
                             help_text="Sales meetings get suggested answers to customer questions.")
    meeting_url = forms.URLField(max_length=1000, required=False, label="Meeting link", assume_scheme="https",
                                 widget=forms.URLInput(attrs={"placeholder": "https://meet.google.com/abc-defg-hij"}))
    scheduled_start = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    scheduled_end = forms.DateTimeField(required=False, widget=DateTimeLocalInput())
    language = forms.CharField(max_length=16, required=False, help_text="For example en or de-DE; empty detects it.",
                               widget=forms.TextInput(attrs={"placeholder": "Detect automatically"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("scheduled_start"), data.get("scheduled_end")
        if start and end and end < start:
            self.add_error("scheduled_end", "The end must not be before the start.")
        return data

    @classmethod
    def initial_for(cls, meeting: Meeting) -> dict[str, Any]:
        return {name: getattr(meeting, name) for name in cls.base_fields}


class MeetingFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search titles…"}))
    status = forms.ChoiceField(required=False, choices=_blank("Any status", Meeting.Status.choices))
    platform = forms.ChoiceField(required=False, choices=_blank("Any platform", Meeting.Platform.choices))
    kind = forms.ChoiceField(required=False, choices=_blank("Any kind", Meeting.Kind.choices))
    started_from = forms.DateField(required=False, widget=DateInput(), label="Started from")
    started_to = forms.DateField(required=False, widget=DateInput(), label="to")

    def filters(self) -> dict[str, Any]:
        """The valid, non-empty filters (an invalid one is ignored rather than failing the page)."""
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class ParticipantForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=Participant.Role.choices, initial=Participant.Role.UNKNOWN)
    user_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Member")

    def __init__(self, *args: Any, members: list[User] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = _blank("Not a member", [(u.pk, u.display_name) for u in members])


class SpeakerRenameForm(forms.Form):
    old_label = forms.CharField(max_length=200)
    new_name = forms.CharField(max_length=200)


def assignee_choices(members: list[User], participants: list[Participant] = ()) -> list[tuple[str, str]]:
    """One select for "who": ``u<user id>`` for members, ``p<participant id>`` for participants."""
    choices = [("", "Unassigned")]
    choices += [(f"u{u.pk}", u.display_name) for u in members]
    choices += [(f"p{p.pk}", f"{p.name} (participant)") for p in participants if not p.user_id]
    return choices


def parse_assignee(value: str) -> dict[str, Any] | None:
    """``u12`` / ``p7`` / ``""`` to the service's assignment keys; None for anything else."""
    if value == "":
        return {"assignee_user_id": None, "assignee_participant_id": None, "assignee_name": ""}
    if len(value) > 1 and value[0] in "up" and value[1:].isdecimal() and value[1:].isascii():
        key = "assignee_user_id" if value[0] == "u" else "assignee_participant_id"
        return {"assignee_user_id": None, "assignee_participant_id": None, "assignee_name": "", key: int(value[1:])}
    return None


class ActionItemForm(forms.Form):
    description = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2,
                                                                                "placeholder": "What needs doing?"}))
    assignee = forms.ChoiceField(required=False)
    assignee_name = forms.CharField(required=False, max_length=200, label="…or someone else",
                                    widget=forms.TextInput(attrs={"placeholder": "Name"}))
    due_date = forms.DateField(required=False, widget=DateInput())
    priority = forms.ChoiceField(choices=ActionItem.Priority.choices, initial=ActionItem.Priority.MEDIUM)

    def __init__(self, *args: Any, members: list[User] = (), participants: list[Participant] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = assignee_choices(members, participants)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        assignment = parse_assignee(data["assignee"]) or {}
        if data["assignee_name"] and not data["assignee"]:
            assignment["assignee_name"] = data["assignee_name"]
        return {"description": data["description"], "due_date": data["due_date"], "priority": data["priority"],
                **{k: v for k, v in assignment.items() if v not in (None, "")}}


class ActionItemQuickForm(forms.Form):
    """An inline change from a row: any of status, priority, due date or assignee."""

    status = forms.ChoiceField(required=False, choices=ActionItem.Status.choices)
    priority = forms.ChoiceField(required=False, choices=ActionItem.Priority.choices)
    due_date = forms.DateField(required=False, widget=DateInput())
    assignee = forms.CharField(required=False, max_length=20)

    def changes(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for field in ("status", "priority"):
            if self.cleaned_data.get(field):
                data[field] = self.cleaned_data[field]
        if "due_date" in self.data:
            data["due_date"] = self.cleaned_data.get("due_date")
        if "assignee" in self.data:
            assignment = parse_assignee(self.cleaned_data.get("assignee", ""))
            if assignment is None:
                raise forms.ValidationError("Unknown assignee.")
            data.update(assignment)
        return data


class ActionItemFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search action items…"}))
    mine = forms.BooleanField(required=False, label="Assigned to me")
    overdue = forms.BooleanField(required=False, label="Overdue")
    status = forms.ChoiceField(required=False, choices=_blank("All statuses", ActionItem.Status.choices))
    priority = forms.ChoiceField(required=False, choices=_blank("Any priority", ActionItem.Priority.choices))
    # Plain integers (not choices): a meeting id outside the offered list still filters, and one of
    # another company is a 404 from the selector rather than a silently ignored filter.
    meeting = forms.IntegerField(required=False, widget=forms.Select)
    assignee = forms.IntegerField(required=False, widget=forms.Select)

    def __init__(self, *args: Any, members: list[User] = (), meetings: list[Meeting] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].widget.choices = _blank("All meetings", [(m.pk, m.title) for m in meetings])
        self.fields["assignee"].widget.choices = _blank("Anyone", [(u.pk, u.display_name) for u in members])

    def filters(self) -> dict[str, Any]:
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "", False)}


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=[(f.value, f.value) for f in ExportFormat], required=False)
