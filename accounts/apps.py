from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from accounts import rls

        # Row-level security: every connection follows the tenant scope; every migrate covers new tables.
        connection_created.connect(rls.scope_wrapper_install, dispatch_uid="accounts.rls.scope_wrapper")
        post_migrate.connect(rls.post_migrate_apply, dispatch_uid="accounts.rls.post_migrate")
