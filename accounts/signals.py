"""Signals other apps connect to."""

from django.dispatch import Signal

# ``manage.py seed_demo --with-data`` sends this with ``company`` (the demo Company) and ``admin``
# (its admin User). Apps add their demo meetings, documents, ... in a receiver, idempotently:
# the command may run on every start.
seed_demo_data = Signal()
