"""Building indexes: the embedding stages, the local and Ray engines, the embedding cache."""
