"""LLM rewriting: the answer schema and its grammar, the prompt, the validated and cached
asker, local (llama.cpp) and OpenAI-compatible chat models, and the rules-first hybrid."""
