"""The chunk table's planner statistics, for the app role under row-level security.

PostgreSQL hides a table's rows of ``pg_stats`` from a role that row-level security applies to (its
most common values would show other companies' data), so retrieval's rarest-words-first full-text plan
(``knowledge.retrieval.lexeme_stats``) reads the lexeme frequencies through a SECURITY DEFINER
function owned by the owner, which returns the frequencies for the words it is asked about, never the
list of words itself. ``meetpilot_chunk_analyze()`` refreshes the statistics (ANALYZE needs the
table's owner); scripts and tests call it after a bulk load.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION meetpilot_chunk_lexeme_freqs(lexemes text[])
RETURNS TABLE (lexeme text, freq real, floor_freq real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH s AS (
        SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs
        FROM pg_stats
        WHERE schemaname = 'public' AND tablename = 'knowledge_chunk' AND attname = 'search_vector'
    )
    SELECT e.elem, s.freqs[e.i]::real, s.freqs[array_length(s.elems, 1) + 1]::real
    FROM s, unnest(s.elems) WITH ORDINALITY AS e(elem, i)
    WHERE e.elem = ANY(lexemes)
    UNION ALL
    SELECT NULL, NULL, s.freqs[array_length(s.elems, 1) + 1]::real FROM s
$$;
CREATE OR REPLACE FUNCTION meetpilot_chunk_analyze()
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    ANALYZE public.knowledge_chunk
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS meetpilot_chunk_lexeme_freqs(text[]);
DROP FUNCTION IF EXISTS meetpilot_chunk_analyze();
"""


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_chunk_embedding_inline")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
