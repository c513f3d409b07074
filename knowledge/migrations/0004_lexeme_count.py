"""Per-company document frequencies of the chunks' lexemes, kept by triggers (``knowledge.models.LexemeCount``).

Statement-level triggers with transition tables see every insert, delete and update of
``knowledge_chunk`` whoever issues it (``chunks_replace``, a document's or meeting's cascade, retention,
erasure), so the counts cannot drift from the chunks. The functions are SECURITY DEFINER (the tables'
owner) because a cascade may run in a scope whose ``app.company_id`` is not the chunks' company.
Concurrent writers of one company take turns on an advisory lock for the rest of their transaction
(``knowledge.services.chunks_lock``, which the services take first): their upserts touch the same
common words, and without an order two of them could deadlock.
"""

import django.db.models.deletion
from django.db import migrations, models

# The statement's lexemes per company, from a transition table (``rows``) or a filtered join of two.
_ADD = """
    INSERT INTO knowledge_lexemecount (company_id, lexeme, chunks)
    SELECT company_id, lexeme, count(*) FROM {rows}, unnest(tsvector_to_array(search_vector)) AS lexeme
    GROUP BY company_id, lexeme ORDER BY company_id, lexeme
    ON CONFLICT (company_id, lexeme) DO UPDATE SET chunks = knowledge_lexemecount.chunks + excluded.chunks;
"""
# Words no chunk holds any more are deleted (a deleted meeting leaves none of its words behind); the
# others are decremented. The two parts touch different rows, so they can share one statement.
_TAKE = """
    WITH gone AS (
        SELECT company_id, lexeme, count(*) AS n FROM {rows}, unnest(tsvector_to_array(search_vector)) AS lexeme
        GROUP BY company_id, lexeme
    ),
    emptied AS (
        DELETE FROM knowledge_lexemecount c USING gone
        WHERE c.company_id = gone.company_id AND c.lexeme = gone.lexeme AND c.chunks <= gone.n
    )
    UPDATE knowledge_lexemecount c SET chunks = c.chunks - gone.n FROM gone
    WHERE c.company_id = gone.company_id AND c.lexeme = gone.lexeme AND c.chunks > gone.n;
"""
# The one definition of the company's chunk-write lock: the triggers and ``knowledge.services.chunks_lock`` call it.
_LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION meetpilot_chunks_lock(company bigint) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(hashtextextended('knowledge.chunks:' || company, 0)) $$;
"""
_LOCK = """
    PERFORM meetpilot_chunks_lock(company_id) FROM (SELECT DISTINCT company_id FROM {rows} ORDER BY company_id) AS c;
"""


def _function(name: str, body: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
{body}
    RETURN NULL;
END
$$;
"""


_CHANGED = "(SELECT o.company_id, {side}.search_vector FROM old_rows o JOIN new_rows n ON n.id = o.id " \
    "WHERE o.search_vector IS DISTINCT FROM n.search_vector) AS {side}_changed"

FORWARD = [
    _LOCK_FUNCTION,
    _function("meetpilot_lexeme_counts_insert", _LOCK.format(rows="new_rows") + _ADD.format(rows="new_rows")),
    _function("meetpilot_lexeme_counts_delete", _LOCK.format(rows="old_rows") + _TAKE.format(rows="old_rows")),
    _function(
        "meetpilot_lexeme_counts_update",
        "    IF NOT EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id\n"
        "                   WHERE o.search_vector IS DISTINCT FROM n.search_vector) THEN RETURN NULL; END IF;\n"
        + _LOCK.format(rows="old_rows")
        + _TAKE.format(rows=_CHANGED.format(side="o"))
        + _ADD.format(rows=_CHANGED.format(side="n")),
    ),
    """CREATE TRIGGER knowledge_chunk_lexemes_insert AFTER INSERT ON knowledge_chunk
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meetpilot_lexeme_counts_insert()""",
    """CREATE TRIGGER knowledge_chunk_lexemes_delete AFTER DELETE ON knowledge_chunk
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION meetpilot_lexeme_counts_delete()""",
    """CREATE TRIGGER knowledge_chunk_lexemes_update AFTER UPDATE ON knowledge_chunk
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION meetpilot_lexeme_counts_update()""",
    # The chunks stored before this migration.
    _ADD.format(rows="knowledge_chunk"),
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS knowledge_chunk_lexemes_insert ON knowledge_chunk",
    "DROP TRIGGER IF EXISTS knowledge_chunk_lexemes_delete ON knowledge_chunk",
    "DROP TRIGGER IF EXISTS knowledge_chunk_lexemes_update ON knowledge_chunk",
    "DROP FUNCTION IF EXISTS meetpilot_lexeme_counts_insert()",
    "DROP FUNCTION IF EXISTS meetpilot_lexeme_counts_delete()",
    "DROP FUNCTION IF EXISTS meetpilot_lexeme_counts_update()",
    "DROP FUNCTION IF EXISTS meetpilot_chunks_lock(bigint)",
]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_merge_0003_row_level_security_0003_user_timezone"),
        ("knowledge", "0003_chunk_statistics"),
    ]

    operations = [
        migrations.CreateModel(
            name="LexemeCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("lexeme", models.TextField()),
                ("chunks", models.IntegerField()),
                (
                    "company",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.company"
                    ),
                ),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("company", "lexeme"), name="lexeme_count_unique")],
            },
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
