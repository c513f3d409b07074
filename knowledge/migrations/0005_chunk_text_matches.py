"""Full-text matches through the GIN index under row-level security (``knowledge.retrieval``).

PostgreSQL may not use an index for an operator that is not LEAKPROOF on a table with row-level
security, since the index condition would run before the policy; ``@@`` is not, so a big company's
full-text search scanned the whole chunk table (100 ms at 63,000 chunks). This function, owned by the
tables' owner, looks the matches up through the index and returns only ids of the connection's own
company (the same ``app.company_id`` the policies read): no setting, no rows. The caller joins the ids
back to ``knowledge_chunk``, where the policy applies as before.
"""

import importlib

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION meetpilot_chunk_text_matches(query tsquery)
RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public ROWS 1000 AS $$
    SELECT c.id FROM public.knowledge_chunk c
    WHERE c.company_id = NULLIF(current_setting('app.company_id', true), '')::bigint
      AND c.search_vector @@ query
$$;
"""

BACKWARD = "DROP FUNCTION IF EXISTS meetpilot_chunk_text_matches(tsquery)"

# The word frequencies now come from ``LexemeCount`` (0004); the pg_stats reader of 0003 is unused.
_STATISTICS = importlib.import_module("knowledge.migrations.0003_chunk_statistics")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_lexeme_count")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunSQL("DROP FUNCTION IF EXISTS meetpilot_chunk_lexeme_freqs(text[])", _STATISTICS.FUNCTIONS),
    ]
