"""The Russian catalogue: complete, compiled, and what a Russian-speaking user sees."""

import ast
import gettext
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm_models.models import Channel, LeadStatus
from tests.factories import LeadFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
# The project's catalogue (from makemessages) and the one for third-party apps without Russian.
CATALOGUE_DIRS = [LOCALE_DIR / "ru" / "LC_MESSAGES", LOCALE_DIR / "third_party" / "ru" / "LC_MESSAGES"]
LEAD_CHANGELIST = "/admin/crm_models/lead/"


@pytest.fixture(autouse=True)
def default_language_afterwards() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in the thread: keep
    Russian from leaking into the tests that run after these."""
    yield
    translation.deactivate()


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def parse_po(path: Path) -> list[Entry]:
    """A deliberately small .po reader (no gettext tools needed): active entries only."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            finish()
        elif line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue  # comments, and obsolete "#~" entries, which are not compiled
        elif line.startswith('"'):
            assert target is not None, line
            value = ast.literal_eval(line)
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += value
            else:
                setattr(entry, name, (getattr(entry, name) or "") + value)
        else:
            keyword, _space, literal = line.partition(" ")
            value = ast.literal_eval(literal)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                entry.msgstr[index] = value
                target = ("msgstr", index)
            else:
                setattr(entry, keyword, value)
                target = (keyword, 0)
    finish()
    return entries


@pytest.fixture(scope="module", params=CATALOGUE_DIRS, ids=["project", "third_party"])
def catalogue_dir(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture(scope="module")
def entries(catalogue_dir: Path) -> list[Entry]:
    return parse_po(catalogue_dir / "django.po")


def test_both_catalogues_are_on_the_locale_paths() -> None:
    assert [Path(path) for path in settings.LOCALE_PATHS] == [d.parent.parent for d in CATALOGUE_DIRS]


def test_catalogue_has_the_russian_plural_rule(entries: list[Entry]) -> None:
    header = entries[0]
    assert header.msgid == ""
    assert "Language: ru\n" in header.msgstr[0]
    assert (
        "Plural-Forms: nplurals=4; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && "
        "(n%100<12 || n%100>14) ? 1 : n%10==0 || (n%10>=5 && n%10<=9) || (n%100>=11 && n%100<=14)? 2 : 3);"
    ) in header.msgstr[0]


def test_every_entry_is_translated_and_none_is_fuzzy(entries: list[Entry]) -> None:
    messages = entries[1:]
    assert len(messages) > 100
    untranslated = [e.msgid for e in messages if not all(e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    wrong_plural_count = [e.msgid for e in messages if e.msgid_plural and sorted(e.msgstr) != [0, 1, 2, 3]]
    assert untranslated == []
    assert fuzzy == []
    assert wrong_plural_count == []


def test_translations_keep_the_placeholders(entries: list[Entry]) -> None:
    def placeholders(text: str) -> set[str]:
        return set(re.findall(r"%\(\w+\)[sd]|\{\w*\}", text))

    broken = [
        e.msgid
        for e in entries[1:]
        for text in e.msgstr.values()
        if placeholders(text) - placeholders(e.msgid + (e.msgid_plural or ""))
        or (not e.msgid_plural and placeholders(e.msgid) != placeholders(text))
    ]
    assert broken == []


def test_compiled_catalogue_matches_the_po_file(catalogue_dir: Path, entries: list[Entry]) -> None:
    with (catalogue_dir / "django.mo").open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)._catalog  # type: ignore[attr-defined]
    # msgfmt rewrites the header (drops POT-Creation-Date): compare the messages.
    compiled.pop("")
    expected: dict[object, str] = {}
    for e in entries[1:]:
        key = e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}"
        if e.msgid_plural is None:
            expected[key] = e.msgstr[0]
        else:
            expected.update({(key, index): text for index, text in e.msgstr.items()})
    assert compiled == expected


def test_lead_status_labels_in_russian() -> None:
    with translation.override("ru"):
        assert {status.value: str(status.label) for status in LeadStatus} == {
            "new": "Новый",
            "in_progress": "В работе",
            "qualified": "Квалифицирован",
            "converted": "Стал клиентом",
            "lost": "Потерян",
        }
        assert str(Channel.SOCIAL.label) == "Социальные сети"


def test_lead_status_labels_stay_english_by_default() -> None:
    assert [str(status.label) for status in LeadStatus] == [
        "New",
        "In progress",
        "Qualified",
        "Converted",
        "Lost",
    ]


RUSSIAN_ON_LEAD_LIST = [
    "Лиды",
    "В работе",
    "Поиск по имени, эл. почте или телефону (в любом формате).",
    "Продажи",
    "Фильтры",  # unfold's own text, from the third-party catalogue
]
ENGLISH_ON_LEAD_LIST = ["In progress", "Search by name, e-mail or phone (typed any way).", "Sales", "Filters"]


@pytest.fixture
def operator_with_lead(operator: User) -> User:
    LeadFactory(owner=operator, status=LeadStatus.IN_PROGRESS)
    return operator


def assert_russian_lead_list(html: str) -> None:
    assert '<html lang="ru"' in html
    for text in RUSSIAN_ON_LEAD_LIST:
        assert text in html, text
    for text in ENGLISH_ON_LEAD_LIST:
        assert text not in html, text


@pytest.mark.django_db
def test_lead_list_in_english_without_a_language_choice(
    operator_with_lead: User, client_for: Callable[[User], Client]
) -> None:
    html = client_for(operator_with_lead).get(LEAD_CHANGELIST).content.decode()
    assert '<html lang="en"' in html
    for text in ENGLISH_ON_LEAD_LIST:
        assert text in html, text


@pytest.mark.django_db
def test_lead_list_in_russian_from_the_browser_language(
    operator_with_lead: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(operator_with_lead).get(LEAD_CHANGELIST, HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 200
    assert_russian_lead_list(response.content.decode())


@pytest.mark.django_db
def test_user_switches_to_russian_and_it_sticks(
    operator_with_lead: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator_with_lead)
    response = client.post(reverse("set_language"), {"language": "ru", "next": LEAD_CHANGELIST})
    assert response.status_code == 302
    assert response["Location"] == LEAD_CHANGELIST
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"

    # The browser still asks for English: the user's choice wins.
    response = client.get(LEAD_CHANGELIST, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert_russian_lead_list(response.content.decode())

    client.post(reverse("set_language"), {"language": "en", "next": LEAD_CHANGELIST})
    html = client.get(LEAD_CHANGELIST).content.decode()
    assert "In progress" in html
    assert "В работе" not in html


@pytest.mark.django_db
def test_dashboard_chart_titles_and_environment_badge_in_russian(
    marketer: User, client_for: Callable[[User], Client], settings: Any
) -> None:
    settings.ENVIRONMENT = "development"
    html = client_for(marketer).get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Новые лиды по каналам" in html
    assert "New leads by channel" not in html
    assert "Разработка" in html
    assert "Development" not in html


@pytest.mark.django_db
def test_error_pages_in_russian(operator: User, client_for: Callable[[User], Client]) -> None:
    response = client_for(operator).get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Страница не найдена" in html
    assert "Вернуться на панель показателей" in html

    with translation.override("ru"):
        html = render_to_string("500.html")
    assert '<html lang="ru">' in html
    assert "Что-то пошло не так" in html
    assert "Something went wrong" not in html
