"""Row-level security on every tenant table that exists now (accounts/rls.py).

Tables that later migrations add (in any app) are covered by the post_migrate step of the same
module, which also grants the app and maintenance roles their row privileges after every migrate.
The live model registry is used on purpose: which tables are tenant tables is a property of the
code, and rls.install() skips tables that do not exist yet.
"""

from django.db import migrations

from accounts import rls


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rls.apply(schema_editor.connection)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        rls.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_audit_log")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
