"""The README shows the import preview, the lead timeline and the dashboard in
both languages, on a desktop and on a phone: each picture exists, is a PNG of
the size tests/e2e/test_screenshots.py takes, stays small, and is shown."""

import struct
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = ["import-preview", "lead-timeline", "dashboard"]
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
MAX_BYTES = 400_000


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("page", PAGES)
def test_screenshot_is_in_the_readme(page: str, language: str, size: str) -> None:
    relative = f"docs/screenshots/{page}-{language}-{size}.png"
    data = (ROOT / relative).read_bytes()

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == SIZES[size]
    assert len(data) <= MAX_BYTES
    assert f'<img src="{relative}"' in README.read_text(encoding="utf-8")
