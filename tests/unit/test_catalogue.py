"""The service catalogue: the shipped files load, the validator names file and field of each
mistake, callers' words find the right service, and the spoken answers read as intended.

Speech tests use a small catalogue written to tmp_path, so they do not depend on the example
values that the city replaces.
"""

from __future__ import annotations

import copy
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from rasa_project.actions.catalogue import (
    ENV_DIR,
    Catalogue,
    CatalogueError,
    MissingTranslation,
    default_directory,
    load_catalogue,
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

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "rasa_project" / "catalogue"
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"

REQUIRED_SERVICES = {
    "personalausweis",
    "ausweis_verlust",
    "reisepass",
    "anmeldung",
    "ummeldung",
    "abmeldung",
    "meldebescheinigung",
    "fuehrungszeugnis",
    "kfz_zulassung",
    "kfz_abmeldung",
    "wunschkennzeichen",
    "geburtsurkunde",
    "eheschliessung",
    "sperrmuell",
    "abfuhrtermine",
    "hundesteuer",
    "wohngeld",
    "anwohnerparkausweis",
    "fundbuero",
}


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(SHIPPED)


# --- the shipped catalogue --------------------------------------------------------------


def test_shipped_catalogue_has_every_required_topic(shipped: Catalogue) -> None:
    assert set(shipped.services) >= REQUIRED_SERVICES
    assert "buergerbuero" in shipped.offices
    for service in shipped.services.values():
        office = shipped.office_of(service)
        assert office.id == service.office
        assert service.synonyms
        assert service.has_english, f"{service.id} has no English FAQ texts"
        for language in ("de", "en"):  # every answer renders without error
            for say in (say_fee, say_documents, say_form, say_summary):
                assert say(service, language)
            say_notes(service, language)
            say_processing_time(service, language)
            assert say_opening_hours(office, language)
            assert say_address(office, language)


def test_shipped_files_say_they_are_example_data() -> None:
    files = sorted(SHIPPED.glob("*.yml"))
    assert len(files) >= 8
    for path in files:
        assert path.read_text(encoding="utf-8").startswith("# EXAMPLE DATA"), path.name


def test_shipped_example_fees(shipped: Catalogue) -> None:
    fee = shipped.service("personalausweis").fee
    assert (fee.price.min_cents, fee.variants[0].price.min_cents) == (3700, 2280)
    assert shipped.service("reisepass").fee.price.min_cents == 7000
    assert shipped.service("fuehrungszeugnis").fee.price.min_cents == 1300
    assert shipped.office("buergerbuero").transfer.startswith("sip:")


def test_default_directory_is_the_shipped_folder_or_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(ENV_DIR, raising=False)
    assert default_directory() == SHIPPED
    write(tmp_path, {"amt.yml": base()})
    monkeypatch.setenv(ENV_DIR, str(tmp_path))
    assert default_directory() == tmp_path
    assert set(load_catalogue().services) == {"reisepass"}


def test_unknown_ids_are_key_errors(shipped: Catalogue) -> None:
    with pytest.raises(KeyError, match="unknown service 'passport'"):
        shipped.service("passport")
    with pytest.raises(KeyError, match="unknown office 'rathaus'"):
        shipped.office("rathaus")


@pytest.mark.skipif(not RASA_PYTHON.is_file(), reason=".venv-rasa is missing (make bootstrap)")
def test_loads_under_the_rasa_interpreter() -> None:
    code = (
        "import sys; sys.path.insert(0, 'rasa_project')\n"
        "from actions.catalogue import load_catalogue, say_fee\n"
        "c = load_catalogue()\n"
        "print(sys.version_info[:2], len(c.services))\n"
        "print(say_fee(c.service('personalausweis')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != ENV_DIR}
    done = subprocess.run(
        [str(RASA_PYTHON), "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    version, answer = done.stdout.strip().splitlines()
    assert version.startswith("(3, 10)")
    assert answer.startswith("Der Personalausweis kostet")


# --- find -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utterance", "service_id"),
    [
        ("Ich brauche einen neuen Personalausweis.", "personalausweis"),
        ("Was kostet ein Perso?", "personalausweis"),
        ("personal ausweis beantragen", "personalausweis"),
        ("PERSONALAUSWEIS", "personalausweis"),
        ("Personalausweiß", "personalausweis"),  # Whisper's ß
        ("Personalauswies", "personalausweis"),  # misspelt
        ("Wann kann ich meinen Ausweis abholen?", "personalausweis"),
        ("Ich habe meinen Ausweis verloren.", "ausweis_verlust"),
        ("Mein Personalausweis wurde gestohlen", "ausweis_verlust"),
        ("Wie lange dauert ein Reisepass?", "reisepass"),
        ("Was kosten Reisepässe?", "reisepass"),
        ("Ich möchte meinen Wohnsitz anmelden.", "anmeldung"),
        ("Anmeldung", "anmeldung"),
        ("Abmeldung", "abmeldung"),
        ("Ich bin umgezogen.", "ummeldung"),
        ("Ich ziehe ins Ausland.", "abmeldung"),
        ("Ich brauche eine Meldebescheinung", "meldebescheinigung"),
        ("Führungszeugnis", "fuehrungszeugnis"),
        ("Fuehrungszeugnis", "fuehrungszeugnis"),
        ("Fuhrungszeugnis", "fuehrungszeugnis"),
        ("polizeiliches Führungszeugniß", "fuehrungszeugnis"),
        ("Ich will mein Auto anmelden.", "kfz_zulassung"),
        ("KFZ-Zulassung", "kfz_zulassung"),
        ("Ich möchte mein Auto abmelden.", "kfz_abmeldung"),
        ("Wunsch Kennzeichen reservieren", "wunschkennzeichen"),
        ("Geburtsurkunte", "geburtsurkunde"),
        ("Wir wollen heiraten.", "eheschliessung"),
        ("Sperrmüll abholen lassen", "sperrmuell"),
        ("Sperrmuell", "sperrmuell"),
        ("Spermüll", "sperrmuell"),
        ("Wann wird die gelbe Tonne geleert?", "abfuhrtermine"),
        ("Ich möchte meinen Hund anmelden.", "hundesteuer"),
        ("Hundesteur", "hundesteuer"),
        ("Wohngeld beantragen", "wohngeld"),
        ("Anwohner Parkausweis", "anwohnerparkausweis"),
        ("Ich habe meine Geldbörse verloren.", "fundbuero"),
        ("Fundbüro", "fundbuero"),
        ("I lost my ID card", "ausweis_verlust"),
    ],
)
def test_find_maps_callers_words_to_a_service(
    shipped: Catalogue, utterance: str, service_id: str
) -> None:
    found = shipped.find(utterance)
    assert found is not None, shipped.matches(utterance)
    assert found.id == service_id


@pytest.mark.parametrize(
    "utterance",
    ["", "Hallo?", "Ich möchte einen Angelschein.", "Wo ist das Rathaus?", "Ich habe eine Frage."],
)
def test_find_returns_none_for_unknown_topics(shipped: Catalogue, utterance: str) -> None:
    assert shipped.find(utterance) is None


def test_find_returns_none_when_two_services_match_equally(tmp_path: Path) -> None:
    doc = base()
    second = copy.deepcopy(doc["services"][0])
    second.update(id="hund", name={"de": "Hundesteuer", "en": "dog tax"}, synonyms=["Maus"])
    doc["services"][0]["synonyms"] = ["Hund"]
    doc["services"].append(second)
    write(tmp_path, {"amt.yml": doc})
    catalogue = load_catalogue(tmp_path)
    assert catalogue.find("Hund") is not None
    assert catalogue.find("Hund und Maus") is None


# --- the validator ----------------------------------------------------------------------


def base() -> dict[str, Any]:
    """A minimal valid catalogue file: one office, one service, English throughout."""
    return {
        "offices": [
            {
                "id": "amt",
                "name": {"de": "Bürgerbüro", "en": "Citizens' Office"},
                "article": "das",
                "address": {"street": "Markt 1", "postcode": "51373", "city": "Leverkusen"},
                "opening_hours": {"weekly": [{"days": "mo-fr", "times": ["08:00-16:00"]}]},
                "phone": "0214 406-0",
                "email": "amt@example.org",
                "transfer": "sip:amt@pbx.example",
            }
        ],
        "services": [
            {
                "id": "reisepass",
                "name": {"de": "Reisepass", "en": "passport"},
                "article": "der",
                "office": "amt",
                "synonyms": ["Pass"],
                "summary": {"de": "Sie beantragen ihn im Amt.", "en": "You apply at the office."},
                "documents": [],
                "fee": {"free": True},
            }
        ],
    }


def write(directory: Path, files: dict[str, Any]) -> Path:
    """Write each file: a dict as YAML, a str as is."""
    for name, content in files.items():
        text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def office(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["offices"][0]  # type: ignore[no-any-return]


def service(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["services"][0]  # type: ignore[no-any-return]


Edit = Callable[[dict[str, Any]], object]

BROKEN: list[tuple[str, Edit, str]] = [
    (
        "amount as a decimal comma",
        lambda d: service(d).update(fee={"amount_cents": "12,5"}),
        "services[0].fee.amount_cents: expected a whole number of cents, got '12,5'",
    ),
    (
        "amount as a float",
        lambda d: service(d).update(fee={"amount_cents": 12.5}),
        "services[0].fee.amount_cents: expected a whole number of cents, got 12.5",
    ),
    (
        "free and an amount",
        lambda d: service(d).update(fee={"free": True, "amount_cents": 500}),
        "services[0].fee: expected exactly one of free: true, amount_cents, "
        "or min_cents with max_cents",
    ),
    (
        "range upside down",
        lambda d: service(d).update(fee={"min_cents": 900, "max_cents": 500}),
        "services[0].fee.max_cents: expected more than min_cents (900), got 500",
    ),
    (
        "variant without a price",
        lambda d: service(d).update(fee={"free": True, "variants": [{"when": "Unter 24"}]}),
        "services[0].fee.variants[0]: expected exactly one of free: true, amount_cents, "
        "or min_cents with max_cents",
    ),
    (
        "unknown key",
        lambda d: office(d).update(adress=office(d).pop("address")),
        "offices[0].adress: unknown key; expected one of address, article, email, id, name, "
        "opening_hours, phone, transfer",
    ),
    (
        "missing field",
        lambda d: service(d).pop("summary"),
        "services[0].summary: missing required field",
    ),
    (
        "null required field",
        lambda d: service(d).update(office=None),
        "services[0].office: missing required field",
    ),
    (
        "text instead of a list",
        lambda d: service(d).update(synonyms="Pass"),
        "services[0].synonyms: expected a list, got 'Pass'",
    ),
    (
        "empty synonym list",
        lambda d: service(d).update(synonyms=[]),
        "services[0].synonyms: expected at least one entry, got an empty list",
    ),
    (
        "synonym without letters",
        lambda d: service(d).update(synonyms=["?!"]),
        "services[0].synonyms[0]: '?!' has no letters or digits to match",
    ),
    (
        "number instead of text",
        lambda d: office(d)["address"].update(street=12),
        "offices[0].address.street: expected text, got 12",
    ),
    (
        "unknown article",
        lambda d: service(d).update(article="den"),
        "services[0].article: expected one of der, die, das, got 'den'",
    ),
    (
        "id not snake_case",
        lambda d: service(d).update(id="Reise-Pass"),
        "services[0].id: expected a snake_case id such as 'kfz_zulassung', got 'Reise-Pass'",
    ),
    (
        "unknown office",
        lambda d: service(d).update(office="amtt"),
        "services[0].office: unknown office 'amtt'; known offices: amt",
    ),
    (
        "hour 25",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(times=["25:00-26:00"]),
        "offices[0].opening_hours.weekly[0].times[0]: '25:00-26:00' is no valid time span: "
        "25:00 is no time of day",
    ),
    (
        "minute 60",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(times=["08:60-12:00"]),
        "offices[0].opening_hours.weekly[0].times[0]: '08:60-12:00' is no valid time span: "
        "08:60 is no time of day",
    ),
    (
        "end before start",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(times=["16:00-08:00"]),
        "offices[0].opening_hours.weekly[0].times[0]: '16:00-08:00' ends before it starts",
    ),
    (
        "not a time span",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(times=["8 bis 16 Uhr"]),
        "offices[0].opening_hours.weekly[0].times[0]: expected a time span such as "
        "'08:00-12:30', got '8 bis 16 Uhr'",
    ),
    (
        "overlapping spans",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(
            times=["08:00-12:00", "11:00-14:00"]
        ),
        "offices[0].opening_hours.weekly[0].times: time spans overlap; write them as one span",
    ),
    (
        "unknown weekday",
        lambda d: office(d)["opening_hours"]["weekly"][0].update(days="mo-fr, sat"),
        "offices[0].opening_hours.weekly[0].days: unknown weekday 'sat'; use mo, di, mi, do, "
        "fr, sa, so and ranges such as 'mo-fr'",
    ),
    (
        "weekday in two rules",
        lambda d: office(d)["opening_hours"]["weekly"].append(
            {"days": "do", "times": ["08:00-18:00"]}
        ),
        "offices[0].opening_hours.weekly[1].days: 'do' is already in weekly[0]; "
        "give each weekday its times in one place",
    ),
    (
        "no opening hours",
        lambda d: office(d)["opening_hours"].update(weekly=[]),
        "offices[0].opening_hours.weekly: expected at least one entry, got an empty list",
    ),
    (
        "four-digit postcode",
        lambda d: office(d)["address"].update(postcode="5137"),
        "offices[0].address.postcode: expected a postcode of five digits such as '51373', "
        "got '5137'",
    ),
    (
        "URL without scheme",
        lambda d: service(d).update(form={"name": "Antrag", "url": "www.leverkusen.de/antrag"}),
        "services[0].form.url: expected an https:// address, got 'www.leverkusen.de/antrag'",
    ),
    (
        "SIP URI without host",
        lambda d: office(d).update(transfer="sip:amt"),
        "offices[0].transfer: expected a SIP URI such as 'sip:buergerbuero@pbx.leverkusen.local' "
        "or a queue name, got 'sip:amt'",
    ),
    (
        "bad e-mail",
        lambda d: office(d).update(email="amt(at)example.org"),
        "offices[0].email: expected an e-mail address, got 'amt(at)example.org'",
    ),
    (
        "bad phone",
        lambda d: office(d).update(phone="ruf an"),
        "offices[0].phone: expected a phone number such as '0214 406-0', got 'ruf an'",
    ),
    (
        "sentence without full stop",
        lambda d: service(d).update(summary={"de": "Im Amt", "en": "At the office."}),
        "services[0].summary.de: expected a sentence ending with '.', '!' or '?', got 'Im Amt'",
    ),
    (
        "English service, German-only document",
        lambda d: service(d).update(documents=["Ihren Ausweis"]),
        "services[0].documents[0]: no English text, but the service has an English name "
        "(name.en); write it as {de: ..., en: ...}",
    ),
    (
        "English service, German-only office",
        lambda d: office(d).update(name="Bürgerbüro"),
        "offices[0].name: no English text, but service 'reisepass' (amt.yml) is answered in "
        "English; write it as {de: ..., en: ...}",
    ),
    (
        "processing time of 0 weeks",
        lambda d: service(d).update(processing_time={"min": 0, "unit": "weeks"}),
        "services[0].processing_time.min: expected at least 1 days, weeks or months, got 0",
    ),
    (
        "processing time without unit",
        lambda d: service(d).update(processing_time={"min": 2}),
        "services[0].processing_time.unit: missing required field (or write immediate: true)",
    ),
    (
        "unknown top-level key",
        lambda d: d.update(service=d.pop("services")),
        "service: unknown key; expected one of offices, services",
    ),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in BROKEN], ids=[c[0] for c in BROKEN])
def test_validator_names_file_and_field(tmp_path: Path, edit: Edit, message: str) -> None:
    doc = base()
    edit(doc)
    write(tmp_path, {"amt.yml": doc})
    with pytest.raises(CatalogueError) as error:
        load_catalogue(tmp_path)
    assert str(error.value) == f"amt.yml: {message}"


def _second_file(edit: Edit) -> dict[str, Any]:
    doc = {"services": [copy.deepcopy(service(base()))]}
    service(doc).update(id="zweiter", name="Zweiter Dienst", synonyms=["Zweiter"])
    service(doc)["summary"] = "Ein Satz."
    edit(doc)
    return doc


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: service(d).update(id="reisepass"),
            "b.yml: services[0].id: service 'reisepass' is already defined in amt.yml: services[0]",
        ),
        (
            lambda d: service(d).update(synonyms=["Zweiter", "PASS"]),
            "b.yml: services[0].synonyms[1]: 'PASS' also names service 'reisepass' "
            "(amt.yml: services[0].synonyms[0]); a phrase may name only one service",
        ),
        (
            lambda d: service(d).update(synonyms=["Reise Pass"]),  # the other's name, split
            "b.yml: services[0].synonyms[0]: 'Reise Pass' also names service 'reisepass' "
            "(amt.yml: services[0].name); a phrase may name only one service",
        ),
        (
            lambda d: d.update(offices=[copy.deepcopy(office(base()))]),
            "b.yml: offices[0].id: office 'amt' is already defined in amt.yml: offices[0]",
        ),
    ],
)
def test_validator_checks_across_files(tmp_path: Path, edit: Edit, message: str) -> None:
    write(tmp_path, {"amt.yml": base(), "b.yml": _second_file(edit)})
    with pytest.raises(CatalogueError) as error:
        load_catalogue(tmp_path)
    assert str(error.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "amt.yml: the file is empty; expected offices and/or services"),
        ("- a\n- b\n", "amt.yml: expected a mapping, got a list"),
        ("services: [\n", "amt.yml: line 2: invalid YAML: expected the node content"),
        (
            "offices: []\nservices: []\noffices: []\n",
            "amt.yml: line 3: invalid YAML: key 'offices' is written twice",
        ),
    ],
)
def test_validator_reports_broken_yaml(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"amt.yml": text})
    with pytest.raises(CatalogueError) as error:
        load_catalogue(tmp_path)
    assert str(error.value).startswith(message)


def test_validator_catches_yaml_pitfalls(tmp_path: Path) -> None:
    """A comma in a one-line mapping and an unquoted postcode with a leading 0 (an octal
    number to YAML) are errors, not silently wrong values."""
    text = yaml.safe_dump(base(), allow_unicode=True)
    comma = text.replace(
        "summary:\n    de: Sie beantragen ihn im Amt.\n    en: You apply at the office.",
        "summary: {de: Sie beantragen ihn, bitte, im Amt., en: You apply.}",
    )
    assert comma != text
    write(tmp_path, {"amt.yml": comma})
    with pytest.raises(CatalogueError, match=r"summary\.bitte: unknown key"):
        load_catalogue(tmp_path)
    octal = text.replace("postcode: '51373'", "postcode: 01067")
    assert octal != text
    write(tmp_path, {"amt.yml": octal})
    with pytest.raises(CatalogueError, match="postcode: expected a postcode .* got 567"):
        load_catalogue(tmp_path)
    write(tmp_path, {"amt.yml": text.replace("postcode: '51373'", "postcode: 51373")})
    assert load_catalogue(tmp_path).office("amt").address.postcode == "51373"


def test_validator_needs_a_directory_with_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="does not exist; set VOICEBOT_CATALOGUE_DIR"):
        load_catalogue(tmp_path / "missing")
    with pytest.raises(CatalogueError, match=r"no \*\.yml files"):
        load_catalogue(tmp_path)


# --- spoken answers ---------------------------------------------------------------------


def speech_catalogue(tmp_path: Path, **service_fields: Any) -> Catalogue:
    doc = base()
    office(doc).update(
        address={
            "street": "Hauptstr. 5",
            "postcode": "51373",
            "city": "Leverkusen",
            "note": {"de": "Eingang links.", "en": "Entrance on the left."},
        },
        opening_hours={
            "weekly": [
                {"days": "mo-mi, fr", "times": ["08:00-16:00"]},
                {"days": "do", "times": ["08:00-18:00"]},
            ],
            "note": {"de": "Nur mit Termin.", "en": "By appointment only."},
        },
    )
    service(doc).update(
        id="personalausweis",
        name={"de": "Personalausweis", "en": "identity card"},
        synonyms=["Perso"],
        **service_fields,
    )
    write(tmp_path, {"amt.yml": doc})
    return load_catalogue(tmp_path)


def test_say_opening_hours_with_an_exception(tmp_path: Path) -> None:
    catalogue = speech_catalogue(tmp_path)
    amt = catalogue.office("amt")
    assert say_opening_hours(amt) == (
        "Das Bürgerbüro hat montags bis freitags von 8 bis 16 Uhr geöffnet, donnerstags bis "
        "18 Uhr. Nur mit Termin."
    )
    assert say_opening_hours(amt, "en-GB") == (
        "The Citizens' Office is open Monday to Friday from 8 a.m. to 4 p.m., on Thursdays "
        "until 6 p.m. By appointment only."
    )


@pytest.mark.parametrize(
    ("weekly", "german", "english"),
    [
        (
            [{"days": "mo-fr", "times": ["07:30-12:00"]}],
            "montags bis freitags von 7 Uhr 30 bis 12 Uhr geöffnet.",
            "Monday to Friday from 7:30 a.m. to 12 noon.",
        ),
        (
            [{"days": "mo-do", "times": ["08:00-15:00"]}, {"days": "fr", "times": ["08:00-12:00"]}],
            "montags bis freitags von 8 bis 15 Uhr geöffnet, freitags nur bis 12 Uhr.",
            "Monday to Friday from 8 a.m. to 3 p.m., on Fridays only until 12 noon.",
        ),
        (
            [
                {"days": "mo-di, do-fr", "times": ["08:00-12:00"]},
                {"days": "mi", "times": ["10:00-12:00"]},
            ],
            "montags bis freitags von 8 bis 12 Uhr geöffnet, mittwochs erst ab 10 Uhr.",
            "Monday to Friday from 8 a.m. to 12 noon, on Wednesdays only from 10 a.m.",
        ),
        (
            [
                {"days": "mo-di, fr", "times": ["08:00-12:00"]},
                {"days": "do", "times": ["08:00-12:00", "14:00-17:30"]},
            ],
            "montags, dienstags und freitags von 8 bis 12 Uhr geöffnet, donnerstags von 8 bis "
            "12 Uhr und von 14 Uhr bis 17 Uhr 30.",
            "Monday, Tuesday and Friday from 8 a.m. to 12 noon, Thursday from 8 a.m. to 12 noon "
            "and from 2 p.m. to 5:30 p.m.",
        ),
        (
            [
                {"days": "mo", "times": ["09:00-12:00"]},
                {"days": "mi", "times": ["13:00-15:00"]},
                {"days": "sa", "times": ["10:00-13:00"]},
            ],
            "montags von 9 bis 12 Uhr geöffnet, mittwochs von 13 bis 15 Uhr und samstags von 10 "
            "bis 13 Uhr.",
            "Monday from 9 a.m. to 12 noon, Wednesday from 1 p.m. to 3 p.m. and Saturday from "
            "10 a.m. to 1 p.m.",
        ),
    ],
)
def test_say_opening_hours_forms(
    tmp_path: Path, weekly: list[dict[str, Any]], german: str, english: str
) -> None:
    doc = base()
    office(doc)["opening_hours"] = {"weekly": weekly}
    write(tmp_path, {"amt.yml": doc})
    amt = load_catalogue(tmp_path).office("amt")
    assert say_opening_hours(amt) == f"Das Bürgerbüro hat {german}"
    assert say_opening_hours(amt, "en") == f"The Citizens' Office is open {english}"


def test_say_address_and_phone(tmp_path: Path) -> None:
    amt = speech_catalogue(tmp_path).office("amt")
    assert say_address(amt) == (
        "Das Bürgerbüro finden Sie unter der Adresse Hauptstraße 5, 5 1 3 7 3 Leverkusen. "
        "Eingang links."
    )
    assert say_address(amt, "en") == (
        "The Citizens' Office is at Hauptstraße 5, 5 1 3 7 3 Leverkusen. Entrance on the left."
    )
    assert say_phone(amt) == "Sie erreichen das Bürgerbüro unter der Nummer 0 2 1 4, 4 0 6, 0."
    assert say_phone(amt, "en") == "You can reach the Citizens' Office on 0 2 1 4, 4 0 6, 0."


@pytest.mark.parametrize(
    ("fee", "german", "english"),
    [
        (
            {
                "amount_cents": 3700,
                "variants": [
                    {"when": {"de": "Unter 24 Jahren", "en": "Under 24"}, "amount_cents": 2280}
                ],
            },
            "Der Personalausweis kostet 37 Euro. Unter 24 Jahren kostet er 22 Euro 80.",
            "The identity card costs 37 euros. Under 24, it costs 22 euros 80 cents.",
        ),
        (
            {
                "free": True,
                "note": {"de": "Der neue Ausweis kostet extra.", "en": "The new card costs extra."},
            },
            "Der Personalausweis ist kostenlos. Der neue Ausweis kostet extra.",
            "The identity card is free of charge. The new card costs extra.",
        ),
        (
            {"min_cents": 2630, "max_cents": 4500},
            "Der Personalausweis kostet zwischen 26 Euro 30 und 45 Euro.",
            "The identity card costs between 26 euros 30 cents and 45 euros.",
        ),
        (
            {"min_cents": 4000, "max_cents": 8500},
            "Der Personalausweis kostet zwischen 40 und 85 Euro.",
            "The identity card costs between 40 and 85 euros.",
        ),
        (
            {
                "amount_cents": 15600,
                "period": "year",
                "variants": [
                    {"when": {"de": "für Ehrenamtliche", "en": "for volunteers"}, "free": True}
                ],
            },
            "Der Personalausweis kostet 156 Euro im Jahr. Für Ehrenamtliche ist er kostenlos.",
            "The identity card costs 156 euros per year. For volunteers, it is free of charge.",
        ),
        (
            {"amount_cents": 505},
            "Der Personalausweis kostet 5 Euro und 5 Cent.",
            "The identity card costs 5 euros 5 cents.",
        ),
        (
            {"amount_cents": 100},
            "Der Personalausweis kostet ein Euro.",
            "The identity card costs 1 euro.",
        ),
        (
            {"amount_cents": 80},
            "Der Personalausweis kostet 80 Cent.",
            "The identity card costs 80 cents.",
        ),
    ],
)
def test_say_fee(tmp_path: Path, fee: dict[str, Any], german: str, english: str) -> None:
    ausweis = speech_catalogue(tmp_path, fee=fee).service("personalausweis")
    assert say_fee(ausweis) == german
    assert say_fee(ausweis, "en") == english


def test_say_documents(tmp_path: Path) -> None:
    documents = [
        {"de": "Ihren alten Ausweis", "en": "your old card"},
        {"de": "ein Passfoto", "en": "a photo"},
        {"de": "Ihre Geburtsurkunde", "en": "your birth certificate"},
    ]
    ausweis = speech_catalogue(tmp_path, documents=documents).service("personalausweis")
    assert say_documents(ausweis) == (
        "Für den Personalausweis brauchen Sie Ihren alten Ausweis, ein Passfoto und Ihre "
        "Geburtsurkunde."
    )
    assert say_documents(ausweis, "en") == (
        "For the identity card you need your old card, a photo and your birth certificate."
    )
    none = speech_catalogue(tmp_path, documents=[]).service("personalausweis")
    assert say_documents(none) == "Für den Personalausweis brauchen Sie keine Unterlagen."
    assert say_documents(none, "en") == "You do not need any documents for the identity card."


@pytest.mark.parametrize(
    ("processing_time", "german", "english"),
    [
        (
            {"min": 3, "max": 4, "unit": "weeks"},
            "Beim Personalausweis dauert die Bearbeitung etwa 3 bis 4 Wochen.",
            "Processing of the identity card takes about 3 to 4 weeks.",
        ),
        (
            {"min": 1, "unit": "weeks"},
            "Beim Personalausweis dauert die Bearbeitung etwa eine Woche.",
            "Processing of the identity card takes about 1 week.",
        ),
        (
            {"min": 1, "max": 3, "unit": "working_days"},
            "Beim Personalausweis dauert die Bearbeitung etwa ein bis 3 Werktage.",
            "Processing of the identity card takes about 1 to 3 working days.",
        ),
        (
            {"immediate": True, "note": {"de": "Bringen Sie Zeit mit.", "en": "Allow time."}},
            "Beim Personalausweis ist alles sofort erledigt. Bringen Sie Zeit mit.",
            "The identity card is dealt with straight away. Allow time.",
        ),
    ],
)
def test_say_processing_time(
    tmp_path: Path, processing_time: dict[str, Any], german: str, english: str
) -> None:
    ausweis = speech_catalogue(tmp_path, processing_time=processing_time).service("personalausweis")
    assert say_processing_time(ausweis) == german
    assert say_processing_time(ausweis, "en") == english


def test_say_processing_time_is_none_when_the_catalogue_says_nothing(tmp_path: Path) -> None:
    assert say_processing_time(speech_catalogue(tmp_path).service("personalausweis")) is None


def test_say_form(tmp_path: Path) -> None:
    form = {"name": "Antrag auf Ausweis", "url": "https://www.leverkusen.de/formulare/a.pdf"}
    ausweis = speech_catalogue(tmp_path, form=form).service("personalausweis")
    assert say_form(ausweis) == (
        "Das Formular „Antrag auf Ausweis“ finden Sie im Internet unter leverkusen punkt de."
    )
    assert say_form(ausweis, "en") == (
        'You can find the form "Antrag auf Ausweis" online at leverkusen dot de.'
    )
    none = speech_catalogue(tmp_path).service("personalausweis")
    assert say_form(none) == "Für den Personalausweis gibt es kein Formular zum Herunterladen."
    assert say_form(none, "en") == "There is no form to download for the identity card."


def test_say_summary_and_notes(tmp_path: Path) -> None:
    notes = [{"de": "Abholen Sie selbst.", "en": "Collect it yourself."}]
    ausweis = speech_catalogue(tmp_path, notes=notes).service("personalausweis")
    assert say_summary(ausweis) == "Sie beantragen ihn im Amt."
    assert say_summary(ausweis, "en") == "You apply at the office."
    assert say_notes(ausweis) == "Abholen Sie selbst."
    assert say_notes(speech_catalogue(tmp_path).service("personalausweis")) == ""


def test_german_only_service_refuses_english(tmp_path: Path) -> None:
    doc = base()
    service(doc).update(name="Reisepass", summary="Sie beantragen ihn im Amt.", documents=["X"])
    write(tmp_path, {"amt.yml": doc})
    pass_ = load_catalogue(tmp_path).service("reisepass")
    assert not pass_.has_english
    assert say_documents(pass_) == "Für den Reisepass brauchen Sie X."
    with pytest.raises(MissingTranslation):
        say_documents(pass_, "en")
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        say_fee(pass_, "fr")
