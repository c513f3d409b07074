"""``manage.py migrate`` as the owner role: the app role may not change tables (accounts/rls.py).

Everything else in the process keeps connecting as the app role; the owner's credentials come from
``DATABASE_OWNER_URL`` (the embedded server: ``postgres``). The ``post_migrate`` step that follows
installs row-level security on new tenant tables and grants the app role its row privileges.
"""

from __future__ import annotations

from django.core.management.commands import migrate

from accounts.rls import owner_credentials


class Command(migrate.Command):
    def handle(self, *args, **options):
        with owner_credentials(options["database"]):
            return super().handle(*args, **options)
