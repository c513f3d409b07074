"""Create the demo company and its admin (safe to run any number of times).

    python manage.py seed_demo [--with-data]

The admin's password comes from DEMO_ADMIN_PASSWORD (default: ``meetpilot-demo``);
running the command again resets it to that value, so the printed credentials always work.
``--with-data`` sends ``accounts.signals.seed_demo_data``: apps add their demo meetings and
documents in receivers of it.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import services
from accounts.signals import seed_demo_data

DEFAULT_DEMO_PASSWORD = "meetpilot-demo"


class Command(BaseCommand):
    help = "Create (or repair) the demo company 'Acme Demo' and its admin, then print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--with-data", action="store_true",
                            help="Also let every app add its demo data (meetings, documents, ...).")

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or DEFAULT_DEMO_PASSWORD
        company, user = services.demo_company_seed(password=password)
        if options["with_data"]:
            seed_demo_data.send(sender=self.__class__, company=company, admin=user)
        self.stdout.write(self.style.SUCCESS(f"Demo company: {company.name} ({company.email_domain})"))
        self.stdout.write(f"  sign in at: {settings.SITE_URL.rstrip('/')}/accounts/login/")
        self.stdout.write(f"  email:      {services.DEMO_ADMIN_EMAIL}")
        self.stdout.write(f"  password:   {password}")
