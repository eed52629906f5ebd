"""German normalisation of what Whisper transcribes from a caller: dates, times, numbers,
digit strings (postcodes, phone numbers), house numbers, spelled names and e-mail addresses.

Standard library only (no rasa_sdk), so the action server (Python 3.10) and the gateway's tests
(Python 3.11) can both import it. Every parser returns None when it is not sure.
"""

from .dates import parse_date, speak_date
from .digits import (
    LEVERKUSEN_POSTCODES,
    digit_runs,
    is_leverkusen_postcode,
    parse_digits,
    parse_house_number,
    parse_phone_number,
    parse_postcode,
)
from .emails import parse_email
from .numbers import (
    number_to_words,
    ordinal_to_words,
    parse_number,
    parse_number_word,
    parse_ordinal_word,
    year_to_words,
)
from .spelling import parse_spelled, parse_spelled_name
from .times import office_hours_time, parse_time, speak_time

__all__ = [
    "LEVERKUSEN_POSTCODES",
    "digit_runs",
    "is_leverkusen_postcode",
    "number_to_words",
    "office_hours_time",
    "ordinal_to_words",
    "parse_date",
    "parse_digits",
    "parse_email",
    "parse_house_number",
    "parse_number",
    "parse_number_word",
    "parse_ordinal_word",
    "parse_phone_number",
    "parse_postcode",
    "parse_spelled",
    "parse_spelled_name",
    "parse_time",
    "speak_date",
    "speak_time",
    "year_to_words",
]
