"""Shared helpers for the import tests: sample files, the campaigns they name,
and the two steps of the admin flow (upload -> preview, confirm)."""

from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from crm_models.models import Campaign
from tests.factories import CampaignFactory, ServiceFactory

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"
SAMPLE_CAMPAIGNS = (
    "Яндекс Директ — весна",
    "VK Реклама — бизнес",
    "Email-рассылка Q1",
    "Баннеры на РБК",
    "Партнёрская программа",
)
# Spreadsheet row numbers (header = row 1) of the five broken data rows 6, 12, 18, 24, 30.
SAMPLE_BAD_ROWS = [7, 13, 19, 25, 31]


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def make_sample_campaigns() -> list[Campaign]:
    service = ServiceFactory(name="Контекстная реклама")
    return [CampaignFactory(name=name, service=service) for name in SAMPLE_CAMPAIGNS]


def import_url(model: str) -> str:
    return reverse(f"admin:crm_models_{model}_import")


def upload(client: Client, model: str, name: str, data: bytes, duplicates: str = "skip", **extra: object):
    """`extra`: more fields of the upload form (a lead import's owner_choice, owner)."""
    return client.post(
        import_url(model),
        {"import_file": SimpleUploadedFile(name, data), "duplicates": duplicates, **extra},
    )


def confirm(client: Client, model: str, token: str, rows: str = "all"):
    return client.post(reverse(f"admin:crm_models_{model}_process_import"), {"token": token, "rows": rows})


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    lines = [delimiter.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def error_cells(response) -> list[tuple[int, str, str, str]]:
    return [(i.row, i.column, i.value, i.message) for i in response.context["plan"].errors]
