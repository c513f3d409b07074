"""The one OpenAI-compatible client (chat, streaming chat, embeddings) used by the whole project."""
