"""A duration as people say it, a whole number and a unit (hours, days, weeks), stored as ISO 8601.

The form shows "7" and "days" for P7D and hands the service "P7D" back (engine.isotime.join_duration); a bad
number is this field's own form error, so nothing reaches the service. An ISO 8601 duration typed (or posted by
an API client) instead of a number is passed on as it is, and the service checks it.
"""

from markupsafe import Markup, escape
from wtforms import Field
from wtforms.widgets import html_params

from engine.isotime import DURATION_UNITS, join_duration, split_duration

MAX_COUNT = 99999


class DurationWidget:
    """<input type=number name=X> with <select name=X_unit>, in one labelled group."""

    def __call__(self, field: "DurationField", **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        kwargs.pop("placeholder", None)
        count, unit = field.parts()
        # text, not number: a duration no unit here can say (PT90M, set through the API) is shown as it is
        number = html_params(type="text", name=field.name, value=count, inputmode="numeric", size=6, **kwargs)
        unit_id = f"{kwargs['id']}-unit"
        choices = "".join(f'<option value="{name}"{" selected" if name == unit else ""}>{name}</option>'
                          for name in DURATION_UNITS)
        return Markup(f'<span class="duration"><input {number}>'
                      f'<select id="{escape(unit_id)}" name="{escape(field.name)}_unit" '
                      f'aria-label="{escape(field.label.text)}: unit">{choices}</select></span>')


class DurationField(Field):
    """`data` is an ISO 8601 duration ("" when left empty: the service decides whether that is allowed)."""

    widget = DurationWidget()
    type = "DurationField"

    def __init__(self, label=None, validators=None, default_unit: str = "days", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.default_unit = default_unit
        self.raw: tuple[str, str] | None = None

    def process(self, formdata, data=None, extra_filters=None):
        self._unit = (formdata.get(f"{self.name}_unit") or "") if formdata is not None else ""
        super().process(formdata, data if data is not None else "", extra_filters)

    def process_formdata(self, valuelist):
        count = (valuelist[0] if valuelist else "").strip()
        unit = self._unit.strip()
        self.raw = (count, unit or self.default_unit)
        self.data = ""
        if not count:
            return
        if count.upper().startswith("P"):  # an ISO 8601 duration as it is (API clients); the service checks it
            self.data = count.upper()
            return
        if not count.isascii() or not count.isdigit() or not 1 <= int(count) <= MAX_COUNT:
            raise ValueError(f"enter a whole number from 1 to {MAX_COUNT}, such as 7")
        if unit not in DURATION_UNITS:
            raise ValueError(f"pick a unit: {', '.join(DURATION_UNITS)}")
        self.data = join_duration(int(count), unit)

    def parts(self) -> tuple[str, str]:
        """(number, unit) to show: what was typed, else the stored duration split."""
        if self.raw is not None:
            return self.raw
        split = split_duration(self.data or "")
        return (str(split[0]), split[1]) if split else (self.data or "", self.default_unit)
