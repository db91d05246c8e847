"""The request lists rewriters are scored on (`circhat eval rewriters`, and the tests), shipped
with the package: fmnist-color's blind held-out phrasings, the fashion-products and shoe-shop
requests, and the labelling of Fashion IQ captions (whose captions are read where present)."""
