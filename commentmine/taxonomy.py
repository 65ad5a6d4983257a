"""Theme definitions as data: load, validate and merge taxonomy files."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from .errors import TaxonomyError

DEFAULT_TAXONOMY = "taxonomy.toml"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Theme:
    """One theme: a name, a description and the rules that are evidence for it."""

    name: str
    description: str = ""
    phrases: tuple[str, ...] = ()
    patterns: tuple = ()


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of themes plus the score given to rule-only themes."""

    themes: tuple[Theme, ...]
    rule_score: float = 0.8
    source: str = field(default="default", compare=False)

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.themes]

    def __getitem__(self, name: str) -> Theme:
        for t in self.themes:
            if t.name == name:
                return t
        raise KeyError(name)

    def merge(self, other: "Taxonomy") -> "Taxonomy":
        """Return this taxonomy with `other`'s themes replacing or extending ours."""
        by_name = {t.name: t for t in self.themes}
        by_name.update({t.name: t for t in other.themes})
        return Taxonomy(tuple(by_name.values()), other.rule_score, other.source)

    def to_dict(self) -> dict:
        return {
            "version": 1,
            "rule_score": self.rule_score,
            "theme": [
                {"name": t.name, "description": t.description,
                 "phrases": list(t.phrases), "patterns": [list(p) for p in t.patterns]}
                for t in self.themes
            ],
        }


def _fail(source: str, msg: str) -> TaxonomyError:
    return TaxonomyError(f"{source}: {msg}")


def taxonomy_from_dict(data: dict, source: str = "<dict>") -> Taxonomy:
    """Validate a parsed taxonomy document and build a :class:`Taxonomy`."""
    raw = data.get("theme")
    if not isinstance(raw, list) or not raw:
        raise _fail(source, "no [[theme]] tables found; add at least one theme with a name")
    themes, seen = [], set()
    for i, t in enumerate(raw, 1):
        where = f"theme #{i}"
        if not isinstance(t, dict):
            raise _fail(source, f"{where} is not a table; write it as [[theme]]")
        name = t.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise _fail(source, f"{where} has invalid name {name!r}; use lowercase letters, digits and _")
        if name in seen:
            raise _fail(source, f"theme {name!r} is defined twice; keep one definition")
        seen.add(name)
        unknown = set(t) - {"name", "description", "phrases", "patterns"}
        if unknown:
            raise _fail(source, f"theme {name!r} has unknown keys {sorted(unknown)}; allowed: name, description, phrases, patterns")
        phrases = t.get("phrases", [])
        if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
            raise _fail(source, f"theme {name!r}: phrases must be a list of non-empty strings")
        patterns = t.get("patterns", [])
        if not isinstance(patterns, list) or not all(
            isinstance(p, list) and p and all(isinstance(tok, dict) for tok in p) for p in patterns
        ):
            raise _fail(source, f"theme {name!r}: patterns must be a list of spaCy token patterns (lists of tables)")
        description = t.get("description", "")
        if not isinstance(description, str):
            raise _fail(source, f"theme {name!r}: description must be a string")
        if not phrases and not patterns and not description:
            raise _fail(source, f"theme {name!r} has no description, phrases or patterns; give it at least phrases")
        themes.append(Theme(name, description.strip(), tuple(p.strip().lower() for p in phrases),
                            tuple(tuple(p) for p in patterns)))
    score = data.get("rule_score", 0.8)
    if not isinstance(score, (int, float)) or not 0 < score <= 1:
        raise _fail(source, f"rule_score must be a number in (0, 1], got {score!r}")
    return Taxonomy(tuple(themes), float(score), source)


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load a taxonomy TOML file; ``None`` loads the packaged default."""
    if path is None:
        text = resources.files("commentmine.data").joinpath(DEFAULT_TAXONOMY).read_text("utf-8")
        source = "default taxonomy"
    else:
        p = Path(path)
        if not p.is_file():
            raise TaxonomyError(f"{p}: taxonomy file not found; check the --taxonomy path")
        try:
            text = p.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise TaxonomyError(f"{p}: cannot read taxonomy ({e.__class__.__name__}); save it as UTF-8 TOML") from None
        source = str(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TaxonomyError(f"{source}: invalid TOML ({e}); fix the syntax") from None
    return taxonomy_from_dict(data, source)
