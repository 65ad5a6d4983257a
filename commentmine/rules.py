"""Rule matching of taxonomy phrases and token patterns with spaCy.

Rules give each theme an evidence span and a binary feature for the learned
model. They run on ``spacy.blank("en")`` (tokenizer plus lookup norms from
``spacy-lookups-data``): no statistical pipeline, no download.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import spacy
from spacy.matcher import Matcher, PhraseMatcher

from .errors import TaxonomyError
from .taxonomy import Taxonomy


@dataclass(frozen=True)
class RuleHit:
    """The first rule match of one theme in one text."""

    start: int
    end: int
    text: str


def _single_token_words(pattern) -> list[str] | None:
    if len(pattern) != 1 or set(pattern[0]) != {"LOWER"}:
        return None
    value = pattern[0]["LOWER"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and set(value) == {"IN"} and all(isinstance(w, str) and " " not in w for w in value["IN"]):
        return list(value["IN"])
    return None


class RuleMatcher:
    """Match every theme's phrases and patterns in a batch of texts.

    Parameters
    ----------
    taxonomy : Taxonomy
        Themes whose ``phrases`` and ``patterns`` are compiled.
    nlp : spacy.Language, optional
        Share another matcher's pipeline, so one tokenization serves both.
    """

    def __init__(self, taxonomy: Taxonomy, nlp=None):
        self.taxonomy = taxonomy
        self.nlp = nlp if nlp is not None else spacy.blank("en")
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.matcher = Matcher(self.nlp.vocab)
        self._index = {name: i for i, name in enumerate(taxonomy.names)}
        self._has_patterns = False
        for theme in taxonomy.themes:
            phrases, patterns = list(theme.phrases), []
            for pattern in theme.patterns:
                # a one-token {LOWER: {IN: [...]}} pattern is a phrase list: the PhraseMatcher is far faster
                words = _single_token_words(pattern)
                if words is None:
                    patterns.append(list(pattern))
                else:
                    phrases.extend(words)
            if phrases:
                self.phrase_matcher.add(theme.name, list(self.nlp.tokenizer.pipe(phrases)))
            if patterns:
                self._has_patterns = True
                try:
                    self.matcher.add(theme.name, patterns)
                except (ValueError, KeyError, TypeError) as e:
                    first = str(e).strip().splitlines()[0]
                    raise TaxonomyError(
                        f"{taxonomy.source}: theme {theme.name!r} has an invalid spaCy pattern ({first}); "
                        "see https://spacy.io/usage/rule-based-matching"
                    ) from None

    def tokenize(self, texts: Iterable[str]) -> list:
        """spaCy Docs of `texts` (tokenizer only)."""
        return list(self.nlp.tokenizer.pipe(texts, batch_size=1000))

    def match(self, texts: Iterable[str], docs: list | None = None) -> tuple[np.ndarray, list[dict[str, RuleHit]]]:
        """Match rules in `texts` (or in their already tokenized `docs`).

        Returns
        -------
        hits : ndarray of shape (n_texts, n_themes), float32
            1.0 where a theme's rule matched.
        spans : list of dict
            Per text, theme name -> first (leftmost, longest) :class:`RuleHit`.
        """
        texts = list(texts)
        hits = np.zeros((len(texts), len(self._index)), dtype=np.float32)
        spans: list[dict[str, RuleHit]] = []
        strings = self.nlp.vocab.strings
        for row, doc in enumerate(docs if docs is not None else self.nlp.tokenizer.pipe(texts, batch_size=1000)):
            found: dict[str, tuple[int, int]] = {}
            matches = self.phrase_matcher(doc)
            if self._has_patterns:
                matches += self.matcher(doc)
            for match_id, start, end in matches:
                name = strings[match_id]
                best = found.get(name)
                if best is None or start < best[0] or (start == best[0] and end > best[1]):
                    found[name] = (start, end)
            out = {}
            for name, (start, end) in found.items():
                hits[row, self._index[name]] = 1.0
                span = doc[start:end]
                out[name] = RuleHit(span.start_char, span.end_char, span.text)
            spans.append(out)
        return hits, spans
