from django.db import migrations


class Migration(migrations.Migration):
    """Keep the embedding and the tsvector inside the row.

    A chunk row (text + tsvector + 1.5 kB of vector) is over the default 2 kB TOAST threshold, so
    Postgres would move the vector (pgvector's type is EXTERNAL) and the tsvector out of line, and
    every distance in an exact search and every ts_rank would first fetch them from the TOAST table
    (measured: 2-3x slower scans). Rows stay whole up to 8 kB; only longer ones are toasted.
    """

    dependencies = [
        ("knowledge", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE MAIN",
                "ALTER TABLE knowledge_chunk ALTER COLUMN search_vector SET STORAGE MAIN",
                "ALTER TABLE knowledge_chunk SET (toast_tuple_target = 8160)",
            ],
            [
                "ALTER TABLE knowledge_chunk RESET (toast_tuple_target)",
                "ALTER TABLE knowledge_chunk ALTER COLUMN search_vector SET STORAGE EXTENDED",
                "ALTER TABLE knowledge_chunk ALTER COLUMN embedding SET STORAGE EXTERNAL",
            ],
        ),
    ]
