"""Signals that connect the stages of a meeting's life without the stages importing each other."""

from django.dispatch import Signal

# Sent (after commit) when a meeting's transcript is complete: a live meeting ended, or an uploaded
# recording or transcript finished processing. Keyword arguments: company_id, meeting_id.
# The after-meeting analysis listens to it.
transcript_completed = Signal()
