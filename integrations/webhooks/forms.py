from __future__ import annotations

from django import forms

from integrations.events import EVENT_TYPES

EVENT_LABELS = {
    "meeting.ended": "A meeting ended",
    "report.ready": "A meeting's report is ready",
    "action_item.created": "An action item was created",
    "action_item.updated": "An action item changed",
    "fact_check.alert": "A fact-check found a wrong number",
    "document.ready": "A document is searchable",
}


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label="Endpoint URL", max_length=2000,
                          widget=forms.URLInput(attrs={"placeholder": "https://example.com/meetpilot/webhook"}))
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(choices=[(e, f"{EVENT_LABELS.get(e, e)} ({e})") for e in EVENT_TYPES],
                                       widget=forms.CheckboxSelectMultiple)
