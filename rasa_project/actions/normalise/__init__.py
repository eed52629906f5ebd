"""German normalisation of what Whisper transcribes from a caller: dates, times, numbers,
digit strings (postcodes, phone numbers), house numbers, addresses, lists of items, spelled
names and e-mail addresses; and how the bot says some of them back.

Standard library only (no rasa_sdk), so the action server (Python 3.10) and the gateway's tests
(Python 3.11) can both import it. Every parser returns None when it is not sure.
"""

from .addresses import (
    Address,
    house_number_at_start,
    looks_like_street,
    parse_address,
    speak_digits,
    speak_house_number,
    street_case,
)
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
from .emails import email_problem, heard_email, parse_email, spell, spoken_email
from .items import parse_items, speak_items
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
    "Address",
    "email_problem",
    "heard_email",
    "house_number_at_start",
    "looks_like_street",
    "parse_address",
    "parse_items",
    "speak_digits",
    "speak_house_number",
    "speak_items",
    "spell",
    "spoken_email",
    "street_case",
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
