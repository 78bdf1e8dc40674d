"""What each importable model's file looks like, and how a row's text becomes
clean values.

Header names are matched ignoring case, spaces, dots, hyphens and underscores
(`Эл. почта` = `эл почта`, `E-mail` = `email`); columns nobody asked for (ad
platforms add `UTM Source`) are ignored. Values are normalised
here exactly as the admin form does (`crm_models.normalization`), so a file and
the form agree on who is a duplicate.
"""

import dataclasses
import datetime
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from crm_models.models import Channel, ImportRecord
from crm_models.normalization import normalize_email, normalize_phone

from .reader import ImportFileError, Table

MISSING_COLUMNS_MESSAGE = _("The header row lacks the column(s) %(columns)s. Expected columns: %(expected)s.")
OTHER_KIND_MESSAGE = _("This looks like a file of %(kind)s, not of %(expected)s: import it on that page.")
TWO_COLUMNS_MESSAGE = _("The columns “%(first)s” and “%(second)s” both mean “%(field)s”: keep one of them.")
NEED_CONTACT_COLUMN_MESSAGE = _("The header row needs an e-mail or a phone column.")
REQUIRED_MESSAGE = _("This value is required.")
TOO_LONG_MESSAGE = _("At most %(limit)s characters are allowed.")
BAD_EMAIL_MESSAGE = _("Enter a valid e-mail address.")
NEED_CONTACT_MESSAGE = _("Give an e-mail or a phone number.")
BAD_NUMBER_MESSAGE = _("Enter a number, e.g. 45000 or 45000.50.")
NEGATIVE_MESSAGE = _("The amount cannot be negative.")
TOO_MANY_DECIMALS_MESSAGE = _("At most two digits after the decimal point are allowed.")
NUMBER_TOO_BIG_MESSAGE = _("The number is too large.")
BAD_DATE_MESSAGE = _("Enter a date as YYYY-MM-DD or DD.MM.YYYY.")
BAD_DATETIME_MESSAGE = _("Enter a date as YYYY-MM-DD or DD.MM.YYYY, optionally with a time (HH:MM).")
FUTURE_DATE_MESSAGE = _("The date is in the future.")
END_BEFORE_START_MESSAGE = _("The end date cannot be before the start date.")
BAD_BOOLEAN_MESSAGE = _("Enter yes or no.")
BAD_ID_MESSAGE = _("Enter a whole number.")
BAD_CHANNEL_MESSAGE = _("Unknown channel. Use one of: %(channels)s.")

# Exports prefix these with an apostrophe so spreadsheets show them as text; a
# re-imported export must read back the value it started from.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Russian names people use for channels, besides the codes and the labels.
CHANNEL_ALIASES: dict[str, str] = {
    "поиск": Channel.SEARCH,
    "поисковая реклама": Channel.SEARCH,
    "контекст": Channel.SEARCH,
    "контекстная реклама": Channel.SEARCH,
    "соцсети": Channel.SOCIAL,
    "социальные сети": Channel.SOCIAL,
    "smm": Channel.SOCIAL,
    "эл. почта": Channel.EMAIL,
    "электронная почта": Channel.EMAIL,
    "e-mail": Channel.EMAIL,
    "рассылка": Channel.EMAIL,
    "медийная реклама": Channel.DISPLAY,
    "баннер": Channel.DISPLAY,
    "баннеры": Channel.DISPLAY,
    "медийная / баннер": Channel.DISPLAY,
    "banner": Channel.DISPLAY,
    "реферальная": Channel.REFERRAL,
    "рекомендации": Channel.REFERRAL,
    "партнёры": Channel.REFERRAL,
    "партнеры": Channel.REFERRAL,
    "офлайн": Channel.OFFLINE,
    "оффлайн": Channel.OFFLINE,
    "другое": Channel.OTHER,
    "прочее": Channel.OTHER,
}
TRUE_WORDS = frozenset({"1", "yes", "y", "true", "да", "д", "истина", "активна", "active"})
FALSE_WORDS = frozenset({"0", "no", "n", "false", "нет", "н", "ложь", "неактивна", "inactive"})
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S", "%d.%m.%y")
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%d.%m.%y",
)
MAX_AMOUNT = Decimal("999999999999.99")


def header_key(text: str) -> str:
    return re.sub(r"[\s_.\-]+", "", text.casefold().replace("ё", "е"))


def strip_neutralizing_quote(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_PREFIXES:
        return value[1:]
    return value


@dataclass(frozen=True)
class RowIssue:
    row: int
    column: str
    value: str
    message: str


class CellError(Exception):
    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(str(message))
        self.message = message


Cleaner = Callable[[str], object]


def text(limit: int) -> Cleaner:
    def clean(value: str) -> str:
        if len(value) > limit:
            raise CellError(TOO_LONG_MESSAGE % {"limit": limit})
        return value

    return clean


@lru_cache(maxsize=1024)
def _email_domain_valid(domain: str) -> bool:
    return domain in validate_email.domain_allowlist or bool(validate_email.validate_domain_part(domain))


@cache
def _email_user_match() -> Callable:
    # The validator's patterns are lazy objects: resolve the one used per row once.
    return validate_email.user_regex.match


def _email_valid(email: str) -> bool:
    """Exactly Django's `validate_email(email)` not raising, with the domain's
    verdict cached: a file's thousands of addresses share a few domains, and the
    domain pattern is most of the validator's cost."""
    if not email or "@" not in email or len(email) > 320:
        return False
    user_part, domain_part = email.rsplit("@", 1)
    return bool(_email_user_match()(user_part)) and _email_domain_valid(domain_part)


def clean_email(value: str) -> str:
    email = normalize_email(value)
    if not _email_valid(email):
        raise CellError(BAD_EMAIL_MESSAGE)
    if len(email) > 254:
        raise CellError(TOO_LONG_MESSAGE % {"limit": 254})
    return email


def clean_phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except ValidationError as error:
        raise CellError(error.messages[0]) from error


def clean_amount(value: str) -> str:
    number = re.sub(r"[\s\u00a0\u202f₽$€]|руб\.?", "", value, flags=re.IGNORECASE)
    if "," in number:
        number = number.replace(",", "") if "." in number else number.replace(",", ".")
    try:
        amount = Decimal(number)
    except InvalidOperation as error:
        raise CellError(BAD_NUMBER_MESSAGE) from error
    if not amount.is_finite():
        raise CellError(BAD_NUMBER_MESSAGE)
    if amount < 0:
        raise CellError(NEGATIVE_MESSAGE)
    # Checked before rounding: rounding 1e30 to cents overflows Decimal's precision.
    if amount > MAX_AMOUNT:
        raise CellError(NUMBER_TOO_BIG_MESSAGE)
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(TOO_MANY_DECIMALS_MESSAGE)
    return str(amount.quantize(Decimal("0.01")))


def clean_date(value: str) -> str:
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, date_format).date().isoformat()  # noqa: DTZ007
        except ValueError:
            continue
    raise CellError(BAD_DATE_MESSAGE)


def clean_created(value: str) -> str:
    """When a lead arrived, as an ISO timestamp in the site's time zone (a
    date alone is its midnight). The future is refused: a lead cannot have
    arrived tomorrow, and such a date is a typo that would sort it first."""
    for date_format in DATETIME_FORMATS:
        try:
            moment = datetime.datetime.strptime(value, date_format)  # noqa: DTZ007
        except ValueError:
            continue
        arrived = timezone.make_aware(moment)
        if arrived > timezone.now():
            raise CellError(FUTURE_DATE_MESSAGE)
        return arrived.isoformat()
    raise CellError(BAD_DATETIME_MESSAGE)


def clean_id(value: str) -> int:
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
    if not (value.isascii() and value.isdigit()) or int(value) == 0:
        raise CellError(BAD_ID_MESSAGE)
    return int(value)


def clean_boolean(value: str) -> bool:
    word = value.casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(BAD_BOOLEAN_MESSAGE)


@cache
def _channel_names() -> dict[str, str]:
    names = {key.casefold(): code for key, code in CHANNEL_ALIASES.items()}
    for language in ("ru", "en"):
        with translation.override(language):
            for code, label in Channel.choices:
                names[str(label).casefold()] = code
    for code in Channel.values:
        names[code] = code
    return names


def clean_channel(value: str) -> str:
    code = _channel_names().get(value.casefold().strip())
    if code is None:
        raise CellError(BAD_CHANNEL_MESSAGE % {"channels": ", ".join(Channel.values)})
    return code


def reference(limit: int) -> Cleaner:
    """A name of another record; resolved against the database later."""
    return text(limit)


@dataclass(frozen=True)
class Column:
    name: str
    header: str  # the name templates and exports write
    aliases: tuple[str, ...]
    clean: Cleaner
    required: bool = False  # the column must be in the header and the cell filled

    @property
    def keys(self) -> set[str]:
        return {header_key(alias) for alias in (self.name, self.header, *self.aliases)}


@dataclass(frozen=True)
class ImportSpec:
    kind: str
    verbose_name_plural: StrOrPromise
    columns: tuple[Column, ...]
    # Columns of which at least one must be present (and filled in each row).
    one_of: tuple[str, ...] = field(default=())
    # Reshapes the file's table before its header is read (ad platforms' reports).
    prepare: Callable[[Table], Table] | None = None

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


LEAD_SPEC = ImportSpec(
    kind=ImportRecord.Kind.LEAD,
    verbose_name_plural=_("leads"),
    columns=(
        Column("first_name", "First name", ("first", "given name", "Имя"), text(100), required=True),
        Column("last_name", "Last name", ("last", "surname", "family name", "Фамилия"), text(100)),
        Column(
            "email",
            "E-mail",
            (
                "email address",
                "e-mail address",
                "mail",
                "Эл. почта",
                "Электронная почта",
                "Почта",
                "Email адрес",
            ),
            clean_email,
        ),
        Column(
            "phone",
            "Phone",
            ("phone number", "telephone", "tel", "mobile", "Телефон", "Тел", "Мобильный"),
            clean_phone,
        ),
        Column("company", "Company", ("organisation", "organization", "Компания", "Организация"), text(200)),
        Column(
            "campaign",
            "Campaign",
            ("campaign name", "Кампания", "Рекламная кампания"),
            reference(200),
            required=True,
        ),
        Column(
            "notes",
            "Notes",
            ("note", "comment", "comments", "Заметки", "Примечание", "Примечания", "Комментарий"),
            text(10_000),
        ),
        # Exports carry the ID: a re-imported export updates exactly those leads.
        Column("id", "ID", ("lead id", "Номер лида"), clean_id),
        # When the lead arrived (ad platforms' "Дата заявки"); new leads only.
        Column(
            "created_at",
            "Created",
            ("created at", "created date", "date created", "Дата заявки", "Дата создания", "Создан"),
            clean_created,
        ),
    ),
    one_of=("email", "phone"),
)

SERVICE_SPEC = ImportSpec(
    kind=ImportRecord.Kind.SERVICE,
    verbose_name_plural=_("services"),
    columns=(
        Column(
            "name", "Name", ("service name", "title", "Название", "Наименование"), text(200), required=True
        ),
        Column("description", "Description", ("Описание",), text(10_000)),
        Column("price", "Price", ("Цена", "Стоимость"), clean_amount, required=True),
        Column("is_active", "Active", ("is active", "Активна", "Активен", "Активная"), clean_boolean),
    ),
)

CAMPAIGN_SPEC = ImportSpec(
    kind=ImportRecord.Kind.CAMPAIGN,
    verbose_name_plural=_("campaigns"),
    columns=(
        Column(
            "name", "Name", ("campaign name", "title", "Название", "Наименование"), text(200), required=True
        ),
        Column("service", "Service", ("service name", "Услуга"), reference(200), required=True),
        Column("channel", "Channel", ("Канал",), clean_channel, required=True),
        Column("budget", "Budget", ("Бюджет",), clean_amount, required=True),
        Column(
            "start_date",
            "Start date",
            ("start", "starts", "Начало", "Дата начала"),
            clean_date,
            required=True,
        ),
        Column(
            "end_date",
            "End date",
            ("end", "ends", "Окончание", "Дата окончания", "Конец"),
            clean_date,
            required=True,
        ),
    ),
)

# Ad platforms' date formats besides clean_date's: Google Ads writes "Dec 1, 2026".
SPEND_DATE_FORMATS = ("%b %d, %Y", "%d %b %Y", "%Y/%m/%d", "%Y.%m.%d")
# A report's total rows: "Итого", "Всего", "Total: Account", "Total rows: 31".
TOTAL_ROW = re.compile(r"^(итого|всего|total)\b", re.IGNORECASE)


def clean_spend_date(value: str) -> str:
    try:
        return clean_date(value)
    except CellError:
        for date_format in SPEND_DATE_FORMATS:
            try:
                return datetime.datetime.strptime(value, date_format).date().isoformat()  # noqa: DTZ007
            except ValueError:
                continue
        raise


def clean_source(value: str) -> str:
    return text(50)(value.strip().lower())  # type: ignore[return-value]


# Headers that only one ad platform writes, and the utm_source its ads carry.
PLATFORM_HEADERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "yandex",
        frozenset(
            header_key(name)
            for name in (
                "Расход (руб.)",
                "№ Кампании",
                "CampaignName",
                "CampaignId",
                "Cost (RUB)",
                "Spend (RUB)",
            )
        ),
    ),
    ("vk", frozenset(header_key(name) for name in ("Потрачено", "Потрачено, ₽", "Списания", "Spent"))),
    (
        "google",
        frozenset(header_key(name) for name in ("Day", "День", "Currency code", "Код валюты", "Стоимость")),
    ),
)


def spend_platform(header: Sequence[str]) -> str:
    """The platform whose export this header is ('' when it cannot be told)."""
    keys = {header_key(title) for title in header}
    for platform, marks in PLATFORM_HEADERS:
        if keys & marks:
            return platform
    return ""


def prepare_spend_table(table: Table) -> Table:
    """An ad platform's report as a plain table: the header found below the
    report's title lines, its total rows left out, and, when the file has no
    source column, the platform its header shows as every row's source."""
    header, rows = table.header, table.rows
    if not _matches(SPEND_SPEC, header):
        for index, (_number, cells) in enumerate(rows[:10]):
            if _matches(SPEND_SPEC, cells):
                header, rows = cells, rows[index + 1 :]
                break
    rows = [
        (number, cells)
        for number, cells in rows
        if not any(TOTAL_ROW.match(cell.strip()) for cell in cells[:3] if cell)
    ]
    if "source" not in _column_indexes(SPEND_SPEC, header):
        platform = spend_platform(header)
        width = len(header)
        header = [*header, "Source"]
        rows = [(number, [*cells, *[""] * (width - len(cells)), platform]) for number, cells in rows]
    return dataclasses.replace(table, header=header, rows=rows)


SPEND_SPEC = ImportSpec(
    kind=ImportRecord.Kind.SPEND,
    verbose_name_plural=_("ad spend"),
    columns=(
        Column(
            "date",
            "Date",
            ("Day", "Дата", "День", "Период", "Date of spend"),
            clean_spend_date,
            required=True,
        ),
        Column(
            "campaign",
            "Campaign",
            (
                "Campaign name",
                "CampaignName",
                "Кампания",
                "Название кампании",
                "Рекламная кампания",
                "utm_campaign",
            ),
            reference(200),
            required=True,
        ),
        Column(
            "amount",
            "Amount",
            (
                "Cost",
                "Spend",
                "Spent",
                "Cost (RUB)",
                "Spend (RUB)",
                "Amount spent",
                "Расход",
                "Расход (руб.)",
                "Расход, руб.",
                "Расход, ₽",
                "Потрачено",
                "Потрачено, ₽",
                "Списания",
                "Стоимость",
                "Сумма",
            ),
            clean_amount,
            required=True,
        ),
        Column("source", "Source", ("Platform", "Источник", "Площадка", "utm_source"), clean_source),
    ),
    prepare=prepare_spend_table,
)

SPECS: dict[str, ImportSpec] = {
    spec.kind: spec for spec in (LEAD_SPEC, SERVICE_SPEC, CAMPAIGN_SPEC, SPEND_SPEC)
}


@dataclass
class CleanFile:
    """Cleaned rows: for each row its number, then one value per spec column in
    order (None where the file gives no value, so an update leaves it alone)."""

    spec: ImportSpec
    rows: list[list]
    errors: list[RowIssue]
    headers: dict[str, str]  # spec column name -> header text in the file


def _column_indexes(spec: ImportSpec, header: Sequence[str]) -> dict[str, int]:
    indexes: dict[str, int] = {}
    for position, title in enumerate(header):
        key = header_key(title)
        if not key:
            continue
        for column in spec.columns:
            if key in column.keys:
                if column.name in indexes:
                    raise ImportFileError(
                        TWO_COLUMNS_MESSAGE
                        % {"first": header[indexes[column.name]], "second": title, "field": column.header}
                    )
                indexes[column.name] = position
                break
    return indexes


def _matches(spec: ImportSpec, header: Sequence[str]) -> bool:
    indexes = _column_indexes(spec, header)
    return all(c.name in indexes for c in spec.columns if c.required)


def map_header(spec: ImportSpec, header: Sequence[str]) -> dict[str, int]:
    """Column positions by spec name. Raises ImportFileError when the header
    does not describe this model's file."""
    indexes = _column_indexes(spec, header)
    missing = [column.header for column in spec.columns if column.required and column.name not in indexes]
    if missing:
        for other in SPECS.values():
            if other.kind != spec.kind and _matches(other, header):
                raise ImportFileError(
                    OTHER_KIND_MESSAGE
                    % {"kind": other.verbose_name_plural, "expected": spec.verbose_name_plural}
                )
        raise ImportFileError(
            MISSING_COLUMNS_MESSAGE
            % {
                "columns": ", ".join(f"“{name}”" for name in missing),
                "expected": ", ".join(column.header for column in spec.columns),
            }
        )
    if spec.one_of and not any(name in indexes for name in spec.one_of):
        raise ImportFileError(NEED_CONTACT_COLUMN_MESSAGE)
    return indexes


def clean_table(spec: ImportSpec, table: Table) -> CleanFile:
    if spec.prepare is not None:
        table = spec.prepare(table)
    indexes = map_header(spec, table.header)
    headers = {name: table.header[position] for name, position in indexes.items()}
    # Per column: (place in the row's values, position in the file or -1, cleaner,
    # required, header). A column the file lacks and that is not required is
    # None in every row, so it is left out of the loop, which runs once per cell
    # of files of 100,000 rows and stays flat.
    plan = [
        (
            place,
            indexes.get(column.name, -1),
            column.clean,
            column.required,
            headers.get(column.name, column.header),
        )
        for place, column in enumerate(spec.columns, start=1)
        if column.name in indexes or column.required
    ]
    empty_row = [None] * (len(spec.columns) + 1)
    check = _row_checker(spec, headers)
    required_message = str(REQUIRED_MESSAGE)
    rows: list[list] = []
    errors: list[RowIssue] = []
    for number, cells in table.rows:
        values: list = empty_row.copy()
        values[0] = number
        row_errors: list[RowIssue] = []
        width = len(cells)
        for place, position, clean, required, header in plan:
            raw = cells[position].strip() if 0 <= position < width else ""
            if len(raw) > 1 and raw[0] == "'" and raw[1] in FORMULA_PREFIXES:
                raw = raw[1:]  # strip_neutralizing_quote
            if not raw:
                if required:
                    row_errors.append(RowIssue(number, header, "", required_message))
                continue
            try:
                values[place] = clean(raw)
            except CellError as error:
                row_errors.append(RowIssue(number, header, raw, str(error.message)))
        if not row_errors and check is not None:
            issue = check(values)
            if issue is not None:
                row_errors.append(issue)
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(values)
    return CleanFile(spec=spec, rows=rows, errors=errors, headers=headers)


def _row_checker(spec: ImportSpec, headers: dict[str, str]) -> Callable[[list], RowIssue | None] | None:
    """The checks across a row's cleaned values (`values[0]` is the row number)."""
    names = spec.names
    if spec.one_of:
        either = [1 + names.index(name) for name in spec.one_of]
        column = " / ".join(headers[name] for name in spec.one_of if name in headers)
        message = str(NEED_CONTACT_MESSAGE)

        def need_contact(values: list) -> RowIssue | None:
            for index in either:
                if values[index]:
                    return None
            return RowIssue(values[0], column, "", message)

        return need_contact
    if spec.kind == ImportRecord.Kind.CAMPAIGN:
        start, end = 1 + names.index("start_date"), 1 + names.index("end_date")

        def dates_in_order(values: list) -> RowIssue | None:
            if values[end] < values[start]:
                return RowIssue(values[0], headers["end_date"], values[end], str(END_BEFORE_START_MESSAGE))
            return None

        return dates_in_order
    return None


def expected_headers(spec: ImportSpec) -> list[tuple[str, str, str]]:
    """(English header, other accepted names, whether required) per column, for the import page."""
    either = " / ".join(spec.column(name).header for name in spec.one_of)
    rows = []
    for column in spec.columns:
        if column.required:
            required = gettext("yes")
        elif column.name in spec.one_of:
            required = gettext("at least one of %(columns)s") % {"columns": either}
        else:
            required = ""
        rows.append((column.header, ", ".join(column.aliases), required))
    return rows


def channel_help() -> str:
    return ", ".join(f"{code} ({gettext(str(label))})" for code, label in Channel.choices)
