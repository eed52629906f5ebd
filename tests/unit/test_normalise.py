"""German normalisation of spoken input (rasa_project/actions/normalise): table-driven."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

from rasa_project.actions.normalise import (
    digit_runs,
    is_leverkusen_postcode,
    number_to_words,
    office_hours_time,
    ordinal_to_words,
    parse_date,
    parse_digits,
    parse_email,
    parse_house_number,
    parse_number,
    parse_ordinal_word,
    parse_phone_number,
    parse_postcode,
    parse_spelled,
    parse_spelled_name,
    parse_time,
    speak_date,
    speak_time,
    year_to_words,
)

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date(2026, 11, 24)  # a Tuesday
D = datetime.date
T = datetime.time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # explicit day and month, year inferred: passed this year means next year
        ("am zwölften März", D(2027, 3, 12)),
        ("Am Zwölften März.", D(2027, 3, 12)),
        ("12. März", D(2027, 3, 12)),
        ("am 12 März", D(2027, 3, 12)),
        ("12.3.", D(2027, 3, 12)),
        ("am 12.03.", D(2027, 3, 12)),
        ("12. 3.", D(2027, 3, 12)),
        ("am 24. November", TODAY),
        ("am 23. November", D(2027, 11, 23)),
        ("am 1. Dezember", D(2026, 12, 1)),
        ("am ersten Januar", D(2027, 1, 1)),
        ("am einunddreißigsten Dezember", D(2026, 12, 31)),
        ("am dritten Maerz", D(2027, 3, 3)),
        ("am siebten Juno", D(2027, 6, 7)),
        ("am achten Julei", D(2027, 7, 8)),
        ("am zwölften dritten", D(2027, 3, 12)),
        ("am ersten vierten", D(2027, 4, 1)),
        ("Dienstag, den 12. März", D(2027, 3, 12)),
        # explicit year
        ("12.03.2027", D(2027, 3, 12)),
        ("12.3.27", D(2027, 3, 12)),
        ("am 12. März 2028", D(2028, 3, 12)),
        ("den ersten Dezember zweitausendsiebenundzwanzig", D(2027, 12, 1)),
        ("den ersten Dezember zweitausend siebenundzwanzig", D(2027, 12, 1)),
        ("2027-03-12", D(2027, 3, 12)),
        ("01.01.2020", D(2020, 1, 1)),
        # a day of this or next month
        ("am Dreißigsten", D(2026, 11, 30)),
        ("am 30.", D(2026, 11, 30)),
        ("am Zwölften", D(2026, 12, 12)),
        ("bis zum 5.", D(2026, 12, 5)),
        # relative days
        ("heute", TODAY),
        ("heute morgen", TODAY),
        ("morgen", D(2026, 11, 25)),
        ("Morgen früh", D(2026, 11, 25)),
        ("übermorgen", D(2026, 11, 26)),
        ("uebermorgen", D(2026, 11, 26)),
        ("gestern", D(2026, 11, 23)),
        ("Guten Morgen, geht es morgen?", D(2026, 11, 25)),
        ("in drei Tagen", D(2026, 11, 27)),
        ("in 10 Tagen", D(2026, 12, 4)),
        ("in einer Woche", D(2026, 12, 1)),
        ("in zwei Wochen", D(2026, 12, 8)),
        ("morgen in einer Woche", D(2026, 12, 2)),
        # weekdays: the next one, never today
        ("am Dienstag", D(2026, 12, 1)),
        ("nächsten Dienstag", D(2026, 12, 1)),
        ("naechsten Dienstag", D(2026, 12, 1)),
        ("am Mittwoch", D(2026, 11, 25)),
        ("Montag", D(2026, 11, 30)),
        ("am Samstag", D(2026, 11, 28)),
        ("Sonnabend", D(2026, 11, 28)),
        ("kommenden Freitag", D(2026, 11, 27)),
        ("übernächsten Freitag", D(2026, 12, 4)),
        ("Dienstag in zwei Wochen", D(2026, 12, 8)),
        ("Donnerstag in einer Woche", D(2026, 12, 3)),
        ("in zwei Wochen am Montag", D(2026, 12, 7)),
        ("nächste Woche Montag", D(2026, 11, 30)),
        ("Freitag nächste Woche", D(2026, 12, 4)),
        # no date, or an impossible one
        ("31. Februar", None),
        ("am 31.02.", None),
        ("am einunddreißigsten April", None),
        ("am 29. Februar", None),
        ("30.02.2028", None),
        ("Guten Morgen", None),
        ("nächste Woche", None),
        ("zum ersten Mal", None),
        ("am 12", None),
        ("Ich habe eine Frage zum Personalausweis", None),
        ("morgen um 14.30.", D(2026, 11, 25)),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: datetime.date | None) -> None:
    assert parse_date(text, TODAY) == expected


def test_parse_date_leap_day() -> None:
    assert parse_date("am 29. Februar", D(2027, 3, 1)) == D(2028, 2, 29)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("halb drei", T(2, 30)),
        ("um halb drei", T(2, 30)),
        ("halb eins", T(12, 30)),
        ("halb zwölf", T(11, 30)),
        ("viertel nach zehn", T(10, 15)),
        ("Viertel vor elf", T(10, 45)),
        ("viertel vor eins", T(12, 45)),
        ("dreiviertel elf", T(10, 45)),
        ("drei viertel elf", T(10, 45)),
        ("viertel elf", T(10, 15)),
        ("zehn nach drei", T(3, 10)),
        ("zwanzig vor zwölf", T(11, 40)),
        ("fünf vor halb drei", T(2, 25)),
        ("fünf nach halb drei", T(2, 35)),
        ("10 nach 3", T(3, 10)),
        ("um 14 Uhr", T(14, 0)),
        ("14 Uhr 30", T(14, 30)),
        ("14:30", T(14, 30)),
        ("um 9:05 Uhr", T(9, 5)),
        ("14.30 Uhr", T(14, 30)),
        ("um 9.15", T(9, 15)),
        ("am 12.03. um 14.30 Uhr", T(14, 30)),
        ("vierzehn Uhr dreißig", T(14, 30)),
        ("vierzehn Uhr dreissig", T(14, 30)),
        ("neun Uhr fünf", T(9, 5)),
        ("zehn Uhr", T(10, 0)),
        ("ein Uhr", T(1, 0)),
        ("null Uhr", T(0, 0)),
        ("24 Uhr", T(0, 0)),
        ("um vierzehn dreißig", T(14, 30)),
        ("gegen zehn", T(10, 0)),
        ("ab 8", T(8, 0)),
        # mittags, modifiers
        ("mittags", T(12, 0)),
        ("zu Mittag", T(12, 0)),
        ("Mitternacht", T(0, 0)),
        ("um eins mittags", T(13, 0)),
        ("um drei nachmittags", T(15, 0)),
        ("heute Nachmittag um halb vier", T(15, 30)),
        ("abends um halb acht", T(19, 30)),
        ("um 14 Uhr nachmittags", T(14, 0)),
        ("vormittags um halb elf", T(10, 30)),
        ("morgens um acht", T(8, 0)),
        ("morgen früh um acht", T(8, 0)),
        ("nachts um zwölf", T(0, 0)),
        # no time
        ("vormittags", None),
        ("nachmittags", None),
        ("ich komme nach Leverkusen", None),
        ("vor drei Tagen", None),
        ("wie viel Uhr ist es", None),
        ("25 Uhr", None),
        ("14:75", None),
        ("12.03.", None),
        ("hallo", None),
        ("", None),
    ],
)
def test_parse_time(text: str, expected: datetime.time | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("spoken", "office"),
    [
        (T(2, 30), T(14, 30)),
        (T(1, 0), T(13, 0)),
        (T(6, 45), T(18, 45)),
        (T(7, 0), T(7, 0)),
        (T(10, 15), T(10, 15)),
        (T(12, 30), T(12, 30)),
        (T(0, 30), T(0, 30)),
        (T(14, 0), T(14, 0)),
    ],
)
def test_office_hours_time(spoken: datetime.time, office: datetime.time) -> None:
    assert office_hours_time(spoken) == office


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null", 0),
        ("eins", 1),
        ("zwo", 2),
        ("elf", 11),
        ("sechzehn", 16),
        ("siebzehn", 17),
        ("dreißig", 30),
        ("dreissig", 30),
        ("einundfünfzig", 51),
        ("Einundfuenfzig.", 51),
        ("neunundneunzig", 99),
        ("hundert", 100),
        ("einhundert", 100),
        ("hunderteins", 101),
        ("hundertundzehn", 110),
        ("dreihundertdreiundsiebzig", 373),
        ("tausend", 1000),
        ("zweitausendsiebenundzwanzig", 2027),
        ("zweitausend siebenundzwanzig", 2027),
        ("zwei tausend sieben und zwanzig", 2027),
        ("neunzehnhundertfünfundachtzig", 1985),
        ("einundfünfzigtausenddreihundertdreiundsiebzig", 51373),
        ("neunhundertneunundneunzigtausendneunhundertneunundneunzig", 999999),
        ("42", 42),
        ("51373", 51373),
        ("51.373", 51373),
        (" 7. ", 7),
        # not one number
        ("fünf eins", None),
        ("zwanzig eins", None),
        ("2 tausend", None),
        ("zwölf a", None),
        ("eine Million", None),
        ("Hausnummer 12", None),
        ("hundertnull", None),
        ("", None),
    ],
)
def test_parse_number(text: str, expected: int | None) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("ersten", 1),
        ("erster", 1),
        ("zweiten", 2),
        ("dritte", 3),
        ("siebten", 7),
        ("siebenten", 7),
        ("achten", 8),
        ("sechsten", 6),
        ("zwölften", 12),
        ("neunzehnten", 19),
        ("zwanzigsten", 20),
        ("einundzwanzigsten", 21),
        ("einunddreißigsten", 31),
        ("letzten", None),
        ("bitte", None),
        ("nullten", None),
        ("acht", None),
    ],
)
def test_parse_ordinal_word(word: str, expected: int | None) -> None:
    assert parse_ordinal_word(word) == expected


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "null"),
        (1, "eins"),
        (21, "einundzwanzig"),
        (30, "dreißig"),
        (101, "einhunderteins"),
        (373, "dreihundertdreiundsiebzig"),
        (1001, "eintausendeins"),
        (2027, "zweitausendsiebenundzwanzig"),
        (51373, "einundfünfzigtausenddreihundertdreiundsiebzig"),
    ],
)
def test_number_to_words(n: int, words: str) -> None:
    assert number_to_words(n) == words


def test_number_words_round_trip() -> None:
    for n in [*range(0, 2100), *range(2100, 1_000_000, 997)]:
        assert parse_number(number_to_words(n)) == n, n


def test_number_to_words_range() -> None:
    with pytest.raises(ValueError):
        number_to_words(1_000_000)
    with pytest.raises(ValueError):
        ordinal_to_words(0)


@pytest.mark.parametrize(
    ("n", "words"),
    [(1, "ersten"), (3, "dritten"), (7, "siebten"), (8, "achten"), (12, "zwölften")]
    + [(19, "neunzehnten"), (20, "zwanzigsten"), (31, "einunddreißigsten")],
)
def test_ordinal_to_words(n: int, words: str) -> None:
    assert ordinal_to_words(n) == words
    assert parse_ordinal_word(words) == n


@pytest.mark.parametrize(
    ("year", "words"),
    [(1985, "neunzehnhundertfünfundachtzig"), (1900, "neunzehnhundert"), (2027, None)],
)
def test_year_to_words(year: int, words: str | None) -> None:
    assert year_to_words(year) == (words or number_to_words(year))
    assert parse_number(year_to_words(year)) == year


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fünf eins drei sieben drei", "51373"),
        ("Fünf, eins, drei, sieben, drei.", "51373"),
        ("fuenf eins drei sieben drei", "51373"),
        ("51 373", "51373"),
        ("51373", "51373"),
        ("0214 / 406-0", "02144060"),
        ("zwo", "2"),
        ("null zwei eins vier", "0214"),
        ("einundfünfzig dreihundertdreiundsiebzig", "51373"),
        ("null zwei eins vier vierhundertsechs null", "02144060"),
        ("doppel null", "00"),
        ("doppelnull vier neun", "0049"),
        ("zweimal null", "00"),
        ("zwei mal null eins", "001"),
        ("dreimal fünf", "555"),
        ("+49 214 406 0", "+492144060"),
        ("plus vier neun zwei eins vier", "+49214"),
        # not a plain digit string
        ("fünfzig eins drei sieben drei", None),
        ("zwanzig vier", None),
        ("ein", None),
        ("die Nummer ist fünf", None),
        ("doppel", None),
        ("doppel zwölf", None),
        ("eins plus zwei", None),
        ("", None),
    ],
)
def test_parse_digits(text: str, expected: str | None) -> None:
    assert parse_digits(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Meine Nummer ist null zwei eins vier, und dann vier null sechs", ["0214", "406"]),
        ("ruf mich an unter plus vier neun zwei eins vier", ["+49214"]),
        ("nichts", []),
    ],
)
def test_digit_runs(text: str, expected: list[str]) -> None:
    assert digit_runs(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("51373", "51373"),
        ("fünf eins drei sieben drei", "51373"),
        ("Die Postleitzahl ist fünf eins drei sieben drei.", "51373"),
        ("51373 Leverkusen", "51373"),
        ("D-51373", "51373"),
        ("51 373", "51373"),
        ("einundfünfzig dreihundertdreiundsiebzig", "51373"),
        ("einundfünfzigtausenddreihundertdreiundsiebzig", "51373"),
        ("null eins null sechs sieben", "01067"),
        ("ich wohne in 5137", None),
        ("513733", None),
        ("fünf eins drei sieben", None),
        ("Leverkusen", None),
    ],
)
def test_parse_postcode(text: str, expected: str | None) -> None:
    assert parse_postcode(text) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("51371", True),
        ("51373", True),
        ("51381", True),
        ("51370", False),
        ("51382", False),
        ("50667", False),
        ("5137", False),
        ("51373a", False),
        ("", False),
    ],
)
def test_is_leverkusen_postcode(code: str, expected: bool) -> None:
    assert is_leverkusen_postcode(code) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("null zwei eins vier vier null sechs null", "02144060"),
        ("Meine Nummer ist 0214 406-0.", "02144060"),
        ("+49 214 406 0", "+492144060"),
        ("plus vier neun zwei eins vier vier null sechs null", "+492144060"),
        ("doppel null vier neun", "0049"),
        ("zero two one four, four zero six zero", "02144060"),  # a call in English
        ("plus four nine two one four", "+49214"),
        ("Hausnummer zwölf, Telefon null eins sieben eins eins zwei drei", "0171123"),
        ("zwölf", None),
        ("keine", None),
        ("1234567890123456", None),
    ],
)
def test_parse_phone_number(text: str, expected: str | None) -> None:
    assert parse_phone_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("zwölf a", "12a"),
        ("12 B", "12b"),
        ("12a", "12a"),
        ("12 b wie Berta", "12b"),
        ("zwölf Berta", "12b"),
        ("12-14", "12-14"),
        ("12 bis 14", "12-14"),
        ("zwölf bis vierzehn", "12-14"),
        ("12a-12c", "12a-12c"),
        ("dreiundzwanzig", "23"),
        ("Hausnummer 7", "7"),
        ("Nummer einhundertzwei", "102"),
        ("7.", "7"),
        # no house number
        ("0", None),
        ("12 Uhr", None),
        ("12 1/2", None),
        ("12 Schule", None),
        ("12-", None),
        ("Hauptstraße", None),
        ("", None),
    ],
)
def test_parse_house_number(text: str, expected: str | None) -> None:
    assert parse_house_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M E I E R", "meier"),
        ("m-e-i-e-r.", "meier"),
        ("M, E, I, E, R.", "meier"),
        ("M wie Martha, E wie Emil, I wie Ida, E wie Emil, R wie Richard", "meier"),
        ("M wie München E wie Essen I wie Ingelheim E wie Essen R wie Rostock", "meier"),
        ("Martha Emil Ida Emil Richard", "meier"),
        ("M wie Berta", "b"),
        ("Anton Berta Cäsar Dora", "abcd"),
        ("Aachen Berlin Chemnitz Düsseldorf", "abcd"),
        ("Friedrich Gustav Heinrich Julius Kaufmann Ludwig", "fghjkl"),
        ("Frankfurt Goslar Hamburg Jena Köln Leipzig", "fghjkl"),
        ("Nordpol Otto Paula Quelle Richard Samuel Theodor", "nopqrst"),
        ("Nürnberg Offenbach Potsdam Quickborn Rostock Salzwedel Tübingen", "nopqrst"),
        ("Ulrich Viktor Wilhelm Xanthippe Ypsilon Zacharias", "uvwxyz"),
        ("Unna Völklingen Wuppertal Xanten Ypsilon Zwickau", "uvwxyz"),
        ("Siegfried Zeppelin", "sz"),
        ("Ärger Ökonom Übermut", "äöü"),
        ("Umlaut A, Umlaut O, Umlaut U", "äöü"),
        ("Umlaut Aachen", "ä"),
        ("A Umlaut", "ä"),
        ("M A Umlaut R", "mär"),
        ("A Umlaut O", "aö"),
        ("Ä", "ä"),
        ("S T R A U Eszett", "strauß"),
        ("S T R A U scharfes S", "strauß"),
        ("Schule M I doppel T", "schmitt"),
        ("Charlotte", "ch"),
        ("Em Ka Vau Jot Ix Zett", "mkvjxz"),
        ("A Bindestrich B", "a-b"),
        ("A Leerzeichen B", "a b"),
        ("A Leerstelle B", "a b"),
        ("Mein Name ist M wie Martha, Y wie Ypsilon", "my"),
        ("A B eins zwei 3", "ab123"),
        # not spelled
        ("Meier", None),
        ("Ich heiße Meier", None),
        ("Bindestrich", None),
        ("", None),
    ],
)
def test_parse_spelled(text: str, expected: str | None) -> None:
    assert parse_spelled(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M E I E R", "Meier"),
        ("M wie Martha E wie Emil I wie Ida E wie Emil R wie Richard", "Meier"),
        ("S T R A U Eszett", "Strauß"),
        ("Umlaut O Z T U R K", "Özturk"),
        ("M U Umlaut L L E R Bindestrich L U Umlaut D E N S C H E I D", "Müller-Lüdenscheid"),
        ("M U E L L E R", "Mueller"),
        ("D E", "De"),
        ("V O N Leerzeichen D E R Leerzeichen H E I D E", "von der Heide"),
        ("O Apostroph B R I E N", "O'Brien"),
        ("A B eins", None),
        ("Bindestrich A", None),
        ("Meier", None),
    ],
)
def test_parse_spelled_name(text: str, expected: str | None) -> None:
    assert parse_spelled_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("max punkt mustermann at beispiel punkt de", "max.mustermann@beispiel.de"),
        ("Max Punkt Mustermann ät Beispiel Punkt DE.", "max.mustermann@beispiel.de"),
        ("max punkt mustermann @ beispiel punkt de", "max.mustermann@beispiel.de"),
        ("max klammeraffe web punkt de", "max@web.de"),
        ("m wie martha a x at web punkt de", "max@web.de"),
        ("M wie München, A, X at Web Punkt de", "max@web.de"),
        ("martha punkt schmidt at web punkt de", "martha.schmidt@web.de"),
        ("max.mustermann@beispiel.de", "max.mustermann@beispiel.de"),
        ("max. mustermann at beispiel. de", "max.mustermann@beispiel.de"),
        ("Max Punkt Mustermann. At Beispiel Punkt de.", "max.mustermann@beispiel.de"),
        ("info at stadt minus leverkusen punkt de", "info@stadt-leverkusen.de"),
        ("info at stadt bindestrich leverkusen punkt de", "info@stadt-leverkusen.de"),
        ("max unterstrich eins zwei at gmx punkt net", "max_12@gmx.net"),
        ("Meine E-Mail-Adresse ist max at t minus online punkt de", "max@t-online.de"),
        ("jürgen punkt müller at web punkt de", "juergen.mueller@web.de"),
        ("anna at mail punkt stadt punkt de", "anna@mail.stadt.de"),
        # not an address
        ("max at web", None),
        ("max mustermann", None),
        ("max at at web punkt de", None),
        ("max at web punkt d", None),
        ("at web punkt de", None),
        ("max at punkt de", None),
        ("", None),
    ],
)
def test_parse_email(text: str, expected: str | None) -> None:
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("date", "kwargs", "spoken"),
    [
        (D(2027, 3, 12), {}, "Freitag, den zwölften März"),
        (D(2026, 12, 1), {}, "Dienstag, den ersten Dezember"),
        (D(2026, 11, 3), {}, "Dienstag, den dritten November"),
        (D(2027, 1, 31), {"weekday": False}, "einunddreißigsten Januar"),
        (D(2027, 7, 7), {"year": True}, "Mittwoch, den siebten Juli zweitausendsiebenundzwanzig"),
        (
            D(1985, 5, 8),
            {"weekday": False, "year": True},
            "achten Mai neunzehnhundertfünfundachtzig",
        ),
    ],
)
def test_speak_date(date: datetime.date, kwargs: dict[str, bool], spoken: str) -> None:
    assert speak_date(date, **kwargs) == spoken


def test_speak_date_round_trip() -> None:
    for offset in range(365):  # a date without a year lies within the coming year
        date = TODAY + datetime.timedelta(days=offset)
        assert parse_date(speak_date(date), TODAY) == date
        assert parse_date(speak_date(date, year=True), TODAY) == date


@pytest.mark.parametrize(
    ("time", "spoken"),
    [
        (T(14, 30), "vierzehn Uhr dreißig"),
        (T(9, 0), "neun Uhr"),
        (T(9, 5), "neun Uhr fünf"),
        (T(1, 0), "ein Uhr"),
        (T(13, 1), "dreizehn Uhr eins"),
        (T(0, 0), "null Uhr"),
        (T(12, 45), "zwölf Uhr fünfundvierzig"),
    ],
)
def test_speak_time(time: datetime.time, spoken: str) -> None:
    assert speak_time(time) == spoken


def test_speak_time_round_trip() -> None:
    for minute in range(24 * 60):
        time = T(*divmod(minute, 60))
        assert parse_time(speak_time(time)) == time


def test_imports_under_the_rasa_interpreter() -> None:
    """The action server (Python 3.10, no voicebot on its path) imports it as actions.normalise."""
    python = ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.skip(".venv-rasa is missing: run `make setup` to create the Rasa virtualenv")
    code = "import sys; sys.path.insert(0, 'rasa_project'); import actions.normalise"
    result = subprocess.run(
        [str(python), "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_no_rasa_sdk_import() -> None:
    """The module must stay importable without rasa_sdk (the gateway's venv has none)."""
    sources = (ROOT / "rasa_project" / "actions" / "normalise").glob("*.py")
    imports = ("import rasa_sdk", "from rasa_sdk")
    assert not [p.name for p in sources if any(i in p.read_text(encoding="utf-8") for i in imports)]
    assert sys.version_info >= (3, 10)
