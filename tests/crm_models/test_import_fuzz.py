"""Mutated import files, imported as a marketer through the admin: every one
ends with a message, never a server error, and a refused file writes nothing.

Valid CSV and XLSX files are damaged at random, with a fixed seed: truncated,
bytes flipped or inserted, lines dropped or repeated, and for XLSX zip members
swapped, deleted or their XML damaged. Each variant is uploaded (preview) and,
where the preview offers it, confirmed; a preview that offers no confirmation
is confirmed anyway with its token, as a forged request would.
"""

import datetime
import io
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from crm_models.admin.importing import PREVIEW_EXPIRED_MESSAGE
from crm_models.models import Campaign, ImportRecord, Lead, Service
from tests.crm_models.broken_xlsx import workbook_parts, zip_parts
from tests.crm_models.import_helpers import (
    confirm,
    csv_bytes,
    import_url,
    make_sample_campaigns,
    sample,
    upload,
)
from tests.factories import CampaignFactory, ServiceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")]

SEED = 18
VARIANTS_PER_FILE = 50
MODELS = {"lead": Lead, "service": Service, "campaign": Campaign}

LEAD_ROWS = [
    ["Имя", "Фамилия", "Эл. почта", "Телефон", "Кампания", "Примечание"],
    ["Анна", "Смирнова", "anna@example.ru", "8 916 200-00-01", "Весна", "звонить после 18:00"],
    ["Boris", "Ivanov", "boris@example.ru", "", "Весна", ""],
    ["Вера", "", "", "+7 (916) 200-00-03", "Весна", "=1+1"],
    ["Глеб", "Орлов", "gleb@example.ru", "89162000004", "Весна", 'a;b,c\t"quoted"'],
]
SERVICE_ROWS = [
    ["Название", "Описание", "Цена", "Активна"],
    ["Аудит", "Проверка рекламных кабинетов", "15000.00", "да"],
    ["SEO", "Поисковая оптимизация", "45 000.50", "нет"],
    ["Контекст", "", "0", ""],
]
CAMPAIGN_ROWS = [
    ["Name", "Service", "Channel", "Budget", "Start date", "End date"],
    ["Осень", "Контекст", "search", 120000, datetime.date(2026, 9, 1), datetime.date(2026, 11, 30)],
    ["Зима", "Контекст", "social", "80000.00", "01.12.2026", "28.02.2027"],
]


def openpyxl_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class Base:
    model: str
    name: str
    data: Callable[[], bytes]


BASES = [
    Base("lead", "leads.csv", lambda: csv_bytes(LEAD_ROWS, delimiter=";")),
    Base("lead", "leads.xlsx", lambda: openpyxl_bytes(LEAD_ROWS)),
    Base("lead", "leads-shared-strings.xlsx", lambda: zip_parts(workbook_parts(LEAD_ROWS))),
    Base("lead", "leads-excel-ru-cp1251.csv", lambda: sample("leads-excel-ru-cp1251.csv")),
    Base("service", "services.csv", lambda: csv_bytes(SERVICE_ROWS, encoding="cp1251")),
    Base("campaign", "campaigns.xlsx", lambda: openpyxl_bytes(CAMPAIGN_ROWS)),
]


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    changed = bytearray(data)
    for _ in range(count):
        position = rng.randrange(len(changed))
        changed[position] ^= rng.randrange(1, 256)
    return bytes(changed)


def _insert(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data) + 1)
    junk = rng.choice(
        [b"\x00", b'"', b"\r", b"\xef\xbb\xbf", b"\xff\xfe", b";;;;", b"\n\n", bytes([rng.randrange(256)])]
    )
    return data[:position] + junk * rng.randrange(1, 4) + data[position:]


def _lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    if rng.random() < 0.5:
        del lines[index]
    else:
        lines.insert(index, lines[rng.randrange(len(lines))])
    return b"\n".join(lines)


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _swap_members(data: bytes, rng: random.Random) -> bytes:
    parts = _members(data)
    first, second = rng.sample(sorted(parts), 2)
    parts[first], parts[second] = parts[second], parts[first]
    return zip_parts(parts)


def _delete_member(data: bytes, rng: random.Random) -> bytes:
    parts = _members(data)
    del parts[rng.choice(sorted(parts))]
    return zip_parts(parts)


def _damage_member(data: bytes, rng: random.Random) -> bytes:
    """One member's XML damaged, then zipped again (valid zip, bad content)."""
    parts = _members(data)
    name = rng.choice(sorted(parts))
    part = parts[name]
    how = rng.randrange(3)
    if how == 0:
        parts[name] = part[: rng.randrange(len(part))]
    elif how == 1:
        parts[name] = _flip(part, rng, rng.randrange(1, 4))
    else:
        parts[name] = _insert(part, rng)
    return zip_parts(parts)


def mutations(data: bytes, *, xlsx: bool, rng: random.Random) -> list[tuple[str, bytes]]:
    """VARIANTS_PER_FILE damaged copies of `data`, each with what was done."""
    kinds: list[tuple[str, Callable[[bytes], bytes]]] = [
        ("truncated", lambda d: d[: rng.randrange(len(d))]),
        ("one byte flipped", lambda d: _flip(d, rng, 1)),
        ("bytes flipped", lambda d: _flip(d, rng, rng.randrange(2, 12))),
        ("bytes inserted", lambda d: _insert(d, rng)),
    ]
    if xlsx:
        kinds += [
            ("members swapped", lambda d: _swap_members(d, rng)),
            ("member deleted", lambda d: _delete_member(d, rng)),
            ("member XML damaged", lambda d: _damage_member(d, rng)),
            ("member XML damaged", lambda d: _damage_member(d, rng)),
        ]
    else:
        kinds += [("line dropped or repeated", lambda d: _lines(d, rng))]
    variants = []
    for number in range(VARIANTS_PER_FILE):
        label, mutate = kinds[number % len(kinds)]
        variants.append((f"#{number} {label}", mutate(data)))
    return variants


def stored(model: str) -> tuple[int, int]:
    return MODELS[model].objects.count(), ImportRecord.objects.count()


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def import_variant(client: Client, model: str, name: str, data: bytes, mode: str) -> str | None:
    """Upload and confirm one file; a description of what went wrong, or None."""
    before = stored(model)
    preview = upload(client, model, name, data, duplicates=mode)
    if preview.status_code != 200:
        return f"upload answered {preview.status_code}"
    context = preview.context
    if "counts" not in context:
        errors = context["form"].errors
        if not errors:
            return "no preview and no error message"
        if stored(model) != before:
            return "a refused file wrote rows"
        return None
    response = confirm(client, model, context["token"])
    if response.status_code != 302:
        return f"confirmation answered {response.status_code}"
    sent = messages_of(response)
    if len(sent) != 1:
        return f"confirmation said {sent}"
    if context["confirm_form"] is None:
        # The preview had row errors: a forged confirmation is refused.
        if sent != [str(PREVIEW_EXPIRED_MESSAGE)] or stored(model) != before:
            return f"a preview with errors was confirmed: {sent}"
        return None
    rows, records = stored(model)
    if sent[0].startswith("Imported "):
        if (rows - before[0], records - before[1]) != (context["counts"]["new"], 1):
            return f"{sent[0]} but {rows - before[0]} rows and {records - before[1]} records were written"
    elif (rows, records) != before:
        return f"refused ({sent[0]}) but rows were written"
    return None


@pytest.mark.parametrize("base", BASES, ids=[base.name for base in BASES])
def test_mutated_files_end_with_a_message(
    base: Base, marketer: User, client_for: Callable[[User], Client]
) -> None:
    make_sample_campaigns()
    CampaignFactory(name="Весна")
    ServiceFactory(name="Контекст")
    client = client_for(marketer)
    assert client.get(import_url(base.model)).status_code == 200
    original = base.data()
    rng = random.Random(f"{SEED}-{base.name}")
    failures = []

    for label, data in mutations(original, xlsx=base.name.endswith(".xlsx"), rng=rng):
        # Marketers may change services and campaigns, not leads (which they only skip).
        mode = "skip" if base.model == "lead" else rng.choice(["skip", "update"])
        try:
            problem = import_variant(client, base.model, base.name, data, mode)
        except Exception as error:  # the test client re-raises a view's exception
            problem = f"{type(error).__name__}: {error}"
        if problem:
            failures.append(f"{base.name} {label} ({mode}): {problem}")

    assert failures == []


@pytest.mark.parametrize("base", BASES, ids=[base.name for base in BASES])
def test_the_unmutated_files_preview(
    base: Base, marketer: User, client_for: Callable[[User], Client]
) -> None:
    """The fuzzing starts from files that the import reads."""
    make_sample_campaigns()
    CampaignFactory(name="Весна")
    ServiceFactory(name="Контекст")

    preview = upload(client_for(marketer), base.model, base.name, base.data())

    assert preview.status_code == 200
    assert "counts" in preview.context, preview.context["form"].errors
    expected_errors = 5 if base.name == "leads-excel-ru-cp1251.csv" else 0
    assert preview.context["counts"]["errors"] == expected_errors
