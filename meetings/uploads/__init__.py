"""Uploaded recordings and imported transcripts: validation, the processing pipeline and its progress."""
