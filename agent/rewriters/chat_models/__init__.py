"""The chat models an LLM rewriter asks: a local GGUF run in-process by llama.cpp
(grammar-constrained) or by transformers, and an OpenAI-compatible endpoint."""
