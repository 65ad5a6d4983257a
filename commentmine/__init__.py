"""commentmine: turn contact-center survey comments into themes, evidence and action."""

from .errors import CommentmineError
from .model import load_model, save_model
from .pipeline import tag_file, tag_frame
from .taxonomy import Taxonomy, Theme, load_taxonomy
from .themes import ThemeClassifier

__version__ = "0.1.0"
__all__ = ["CommentmineError", "Taxonomy", "Theme", "ThemeClassifier", "load_model", "load_taxonomy",
           "save_model", "tag_file", "tag_frame", "__version__"]
