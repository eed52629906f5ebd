"""Kölner Phonetik (actions/catalogue/phonetic.py) rule by rule, as published by Postel (1969),
and the catalogue matcher accepting what Whisper writes the way it sounds."""

from __future__ import annotations

import pytest

from rasa_project.actions.catalogue import Catalogue, default_directory, load_catalogue
from rasa_project.actions.catalogue.phonetic import cologne, sounds_alike, stem


@pytest.fixture(scope="module")
def shipped() -> Catalogue:
    return load_catalogue(default_directory())


@pytest.mark.parametrize(
    ("word", "code"),
    [
        # the examples of the published algorithm
        ("Müller-Lüdenscheidt", "65752682"),
        ("Wikipedia", "3412"),
        ("Breschnew", "17863"),
        # vowels: 0 only at the start
        ("Anna", "06"),
        ("Eis", "08"),
        # H has no code, and equal neighbours merge across it
        ("Hahn", "06"),
        # P: 1, before H: 3
        ("Pabst", "1182"),
        ("Philipp", "351"),
        # D T: 2, before C S Z: 8
        ("Tod", "22"),
        ("Stadt", "822"),
        ("Lotz", "58"),
        # F V W: 3
        ("Wolf", "353"),
        ("Vater", "327"),
        # G K Q: 4
        ("Gaukler", "4457"),
        ("Quark", "474"),
        # C at the start: 4 before A H K L O Q R U X, else 8
        ("Christ", "4782"),
        ("Claus", "458"),
        ("Cäsar", "887"),
        ("Cent", "862"),
        # C inside: 4 before A H K O Q U X, 8 after S Z and before other letters
        ("Dacha", "24"),
        ("Schule", "85"),
        ("Matze", "68"),
        ("Lucie", "58"),
        # X: 48, after C K Q: 8
        ("Xaver", "4837"),
        ("Hexe", "048"),
        ("Max", "648"),
        ("Fuchs", "348"),
        # L 5, M N 6, R 7, S Z 8
        ("Lamm", "56"),
        ("Rose", "78"),
        ("Zins", "868"),
        # umlauts are vowels, ß is S
        ("Öl", "05"),
        ("Straße", "8278"),
        # letters only
        ("", ""),
        ("123", ""),
    ],
)
def test_cologne_codes_follow_the_published_rules(word: str, code: str) -> None:
    assert cologne(word) == code


def test_spellings_that_sound_alike_share_a_code() -> None:
    assert cologne("Meier") == cologne("Meyer") == cologne("Mayr") == "67"
    assert cologne("Schmidt") == cologne("Schmitt") == cologne("Schmid")


def test_stem_drops_one_ending_only_when_enough_is_left() -> None:
    assert stem("zulassung") == stem("zulassen") == "zulass"
    assert stem("hunde") == "hunde"  # "hund" would be too short to tell apart
    assert stem("anmeldungen") == "anmeld"


@pytest.mark.parametrize(
    ("word", "said", "alike"),
    [
        ("zulassung", "zulassen", True),
        ("meldebescheinigung", "meldebeschainigung", True),
        ("fuhrungszeugnis", "fuhrungszeichnis", True),  # G and CH (after I) are both 4
        ("anmeldung", "abmeldung", False),
        ("personalausweis", "personalausweiss", True),
        ("zulassung", "sulassung", False),  # the first letter must be the same
        ("fundsache", "womussichhin", False),  # W and F share a code, but not a letter
        ("wohngeld", "mohngeld", False),  # another first sound
        ("hunde", "hunte", False),  # short words: too many sound alike
    ],
)
def test_sounds_alike(word: str, said: str, alike: bool) -> None:
    assert sounds_alike(word, said) is alike


@pytest.mark.parametrize(
    ("utterance", "service_id"),
    [
        ("Ich möchte mein Motorrad zu lassen", "kfz_zulassung"),
        ("Zulasung für mein Auto", "kfz_zulassung"),
        ("ich brauche eine Meldebeschainigung", "meldebescheinigung"),
        ("Wie beantrage ich Hundesteuern", "hundesteuer"),
    ],
)
def test_catalogue_accepts_what_whisper_writes_as_it_sounds(
    shipped: Catalogue, utterance: str, service_id: str
) -> None:
    found = shipped.find(utterance)
    assert found is not None, shipped.matches(utterance)
    assert found.id == service_id


def test_phonetic_match_does_not_confuse_registering_and_deregistering(shipped: Catalogue) -> None:
    found = shipped.find("Auto abmelden")
    assert found is not None and found.id == "kfz_abmeldung"


@pytest.mark.parametrize(
    "utterance",
    [
        "bitte einen menschen",  # "bitteeinen" sounds like "Biotonne"
        "ich möchte einen unfall melden",  # "melden" sounds like "Mülltonne"
        "wie hoch ist die gebühr",  # "hoch ist" sounds like "Hochzeit"
        "ja guten tag hier spricht meier",  # "spricht" sounds like "Sperrgut"
        "so ein unsinn",  # "unsinn" sounds like "umziehen"
    ],
)
def test_words_that_only_sound_alike_name_no_service(shipped: Catalogue, utterance: str) -> None:
    assert shipped.find(utterance) is None, shipped.matches(utterance)
