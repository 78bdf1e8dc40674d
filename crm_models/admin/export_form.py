"""The export page's list of columns, each named by its field's label in the
user's language ("Имя", "Кампания") instead of import-export's English
"First Name (First name)" made from the attribute and the file's header."""

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from unfold.contrib.import_export.forms import SelectableFieldsExportForm

from crm_models.models import Lead


def column_label(model: Any, attribute: str | None, header: str) -> Any:
    """The verbose name of the model field an export column reads (the
    first step of a path such as `campaign__name`); the header otherwise."""
    if attribute == "id":
        return _("ID")
    if attribute:
        try:
            field = model._meta.get_field(attribute.split("__")[0])
        except FieldDoesNotExist:
            return header
        if attribute.startswith("lead__") and model is not Lead:
            # A customer's columns read its lead's fields.
            return column_label(Lead, attribute.removeprefix("lead__"), header)
        return capfirst(field.verbose_name)  # type: ignore[union-attr]
    return header


class LabelledExportForm(SelectableFieldsExportForm):
    def __init__(self, formats: Any, resources: Any, **kwargs: Any) -> None:
        super().__init__(formats, resources, **kwargs)
        for resource_class in resources:
            resource = resource_class()
            model = resource._meta.model
            for name, resource_field in resource.fields.items():
                form_field = self.fields.get(self.create_boolean_field_name(resource_class, name))
                if form_field is not None:
                    form_field.label = column_label(
                        model, resource_field.attribute, resource_field.column_name
                    )
