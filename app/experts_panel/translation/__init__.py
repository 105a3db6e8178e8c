"""Posts and comments in the reader's language: the cache of translations, and the way a text
is had in a language (cache, model, budget) or kept in its original with the reason."""
