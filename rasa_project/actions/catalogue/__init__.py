"""The Bürgertelefon's service catalogue: offices and services as validated data
(rasa_project/catalogue/*.yml) and spoken answers built from it.

Standard library and PyYAML only (no rasa_sdk), so the action server (Python 3.10) and the
gateway's tests (Python 3.11) both import it. Nothing is read at import: the action server
loads it on first use (actions/services.py catalogue(), cached), and `python -m actions.check`
loads it ahead of a start.
"""

from .loader import ENV_DIR, default_directory, load_catalogue
from .match import Match, fold
from .model import (
    Address,
    Catalogue,
    CatalogueError,
    Fee,
    FeeVariant,
    Form,
    MissingTranslation,
    Office,
    OpeningHours,
    OpeningRule,
    Price,
    ProcessingTime,
    Service,
    Text,
    TimeRange,
    language_code,
)
from .speech import (
    say_address,
    say_documents,
    say_fee,
    say_form,
    say_notes,
    say_opening_hours,
    say_phone,
    say_processing_time,
    say_summary,
)

__all__ = [
    "ENV_DIR",
    "Address",
    "Catalogue",
    "CatalogueError",
    "Fee",
    "FeeVariant",
    "Form",
    "Match",
    "MissingTranslation",
    "Office",
    "OpeningHours",
    "OpeningRule",
    "Price",
    "ProcessingTime",
    "Service",
    "Text",
    "TimeRange",
    "default_directory",
    "fold",
    "language_code",
    "load_catalogue",
    "say_address",
    "say_documents",
    "say_fee",
    "say_form",
    "say_notes",
    "say_opening_hours",
    "say_phone",
    "say_processing_time",
    "say_summary",
]
