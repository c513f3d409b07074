#!/bin/sh
# The database roles MeetPilot expects besides the owner (docs/operations.md "Database roles",
# accounts/rls.py). docker-compose.yml mounts this folder into the postgres image's
# /docker-entrypoint-initdb.d, which runs it once, when the data volume is first created, as the owner
# (POSTGRES_USER). Idempotent: for an existing volume run it by hand,
#   docker compose exec db sh /docker-entrypoint-initdb.d/10-meetpilot-roles.sh
#
#   meetpilot_app          LOGIN, no superuser, no BYPASSRLS: what web, worker and beat connect as
#   meetpilot_maintenance  NOLOGIN, BYPASSRLS, granted to meetpilot_app: maintenance over every company
# Row privileges on the tables are granted by `manage.py migrate` (run as the owner).
set -eu
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v app_password="${MEETPILOT_APP_DB_PASSWORD:-meetpilot_app}" <<'SQL'
SELECT 'CREATE ROLE meetpilot_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meetpilot_app') \gexec
ALTER ROLE meetpilot_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'app_password';
SELECT 'CREATE ROLE meetpilot_maintenance NOLOGIN NOSUPERUSER BYPASSRLS'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meetpilot_maintenance') \gexec
GRANT meetpilot_maintenance TO meetpilot_app;
SQL
