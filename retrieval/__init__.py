"""Encoders, catalogues, the FAISS index and composition models."""
