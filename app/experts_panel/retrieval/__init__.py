"""Finding an expert's posts for a question: full-text, sentence embeddings, and their fusion."""
