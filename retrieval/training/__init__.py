"""Everything offline: encoder and composer training, captions, triplets, phrasebooks."""
