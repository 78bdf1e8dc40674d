"""Damaged .xlsx files: whatever the reader cannot read is one message on the
import page, with nothing written."""

import pytest

from crm_models.importing.reader import BAD_XLSX_MESSAGE, ImportFileError, ImportLimits, read_table
from crm_models.models import ImportRecord, Lead
from tests.crm_models.broken_xlsx import BROKEN, workbook_parts, zip_parts
from tests.crm_models.import_helpers import upload
from tests.factories import CampaignFactory

LIMITS = ImportLimits(max_bytes=1024 * 1024, max_rows=100, max_columns=10, max_unpacked_bytes=5 * 1024 * 1024)
ROWS = [["First name", "E-mail", "Campaign"], ["Anna", "anna@example.ru", "Весна"]]


def test_the_workbook_the_broken_files_start_from_reads() -> None:
    table = read_table(zip_parts(workbook_parts(ROWS)), limits=LIMITS)

    assert (table.header, table.rows) == (ROWS[0], [(2, ROWS[1])])


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_the_reader_refuses_a_damaged_workbook_with_one_message(damage: str) -> None:
    with pytest.raises(ImportFileError) as refused:
        read_table(BROKEN[damage](ROWS), limits=LIMITS)

    assert refused.value.message == BAD_XLSX_MESSAGE


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["marketer", "administrator"])
@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_the_import_page_shows_the_message_and_writes_nothing(
    damage: str, role: str, request: pytest.FixtureRequest, client_for
) -> None:
    CampaignFactory(name="Весна")
    client = client_for(request.getfixturevalue(role))

    response = upload(client, "lead", "leads.xlsx", BROKEN[damage](ROWS))

    assert response.status_code == 200
    assert response.context["form"].errors == {"import_file": [str(BAD_XLSX_MESSAGE)]}
    assert str(BAD_XLSX_MESSAGE) in response.content.decode()
    assert "counts" not in response.context  # no preview
    assert (Lead.objects.count(), ImportRecord.objects.count()) == (0, 0)
