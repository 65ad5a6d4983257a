"""Feature blocks: several matrices side by side without materialising their concatenation.

Predicting a linear head over ``[words | chars | rules | embeddings]`` only needs
the sum of each block times its slice of the weights; stacking the blocks into one
sparse matrix (and converting dense embeddings to sparse) costs more than the
product itself, so it is done only when a learner needs one matrix (``fit``).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class FeatureBlocks:
    """Row-aligned feature blocks (sparse or dense) that act like their horizontal concatenation."""

    def __init__(self, blocks: list):
        self.blocks = [b for b in blocks]
        self.widths = [b.shape[1] for b in self.blocks]
        self.shape = (self.blocks[0].shape[0] if self.blocks else 0, int(sum(self.widths)))

    def dot(self, coef: np.ndarray) -> np.ndarray:
        """``X @ coef`` for `coef` of shape (n_features,) or (n_features, k)."""
        out, start = 0.0, 0
        for block, width in zip(self.blocks, self.widths):
            part = coef[start:start + width]
            out = out + np.asarray(block @ part)
            start += width
        return out

    def rows(self, index) -> "FeatureBlocks":
        return FeatureBlocks([b[index] for b in self.blocks])

    def tocsr(self) -> sp.csr_matrix:
        return sp.hstack([b if sp.issparse(b) else sp.csr_matrix(b) for b in self.blocks], format="csr",
                         dtype=np.float32)


def join_blocks(*parts) -> FeatureBlocks:
    """Blocks side by side; a :class:`FeatureBlocks` part contributes its own blocks."""
    out = []
    for part in parts:
        out.extend(part.blocks if isinstance(part, FeatureBlocks) else [part])
    return FeatureBlocks(out)
