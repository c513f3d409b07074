"""Re-embed chunks after the embedding model (or provider, or dimensions) changed.

    manage.py knowledge_reembed              # chunks made with another model than the configured one
    manage.py knowledge_reembed --all        # every chunk
    manage.py knowledge_reembed --company 7  # one company
    manage.py knowledge_reembed --resize     # also change the vector column to EMBEDDINGS_DIMENSIONS

Resumable: it works in id order and skips chunks already made with the current model.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from knowledge import services
from knowledge.embeddings import embedding_model_name, get_embedder


class Command(BaseCommand):
    help = "Re-embed knowledge chunks with the configured embedding model."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="re-embed every chunk, not only outdated ones")
        parser.add_argument("--company", type=int, help="only this company's chunks")
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument("--resize", action="store_true",
                            help="alter the vector column (and its HNSW index) to the configured dimensions first")

    def handle(self, *args, **options):
        from knowledge.selectors import company_get

        company = None
        if options["company"] is not None:
            company = company_get(company_id=options["company"])
            if company is None:
                raise CommandError(f"no company {options['company']}")
        dim = get_embedder().dim
        column = services.chunk_vector_dimensions()
        if column != dim:
            if not options["resize"]:
                raise CommandError(f"The chunk table stores {column}-dimensional vectors but the configured model "
                                   f"makes {dim}-dimensional ones. Run again with --resize (every chunk is "
                                   "re-embedded), or set EMBEDDINGS_DIMENSIONS={column}.")
            if company is not None:
                raise CommandError("--resize changes the table for every company: run it without --company")
            services.chunk_vector_resize(dimensions=dim)
            self.stdout.write(f"vector column resized to {dim} dimensions")
            options["all"] = True
        self.stdout.write(f"embedding with {embedding_model_name()} ({dim} dimensions)")
        done = services.chunks_reembed(company=company, force=options["all"], batch_size=options["batch_size"],
                                       log=lambda line: self.stdout.write(line))
        self.stdout.write(self.style.SUCCESS(f"{done} chunks re-embedded"))
