"""The settings form in the page: its fields come from the settings table (sim/settings.py)
through prefs.FIELD_IDS; what it holds is checked once per change (browser only)."""

from __future__ import annotations

from control_center.dom import Binder, by_id
from control_center.prefs import FIELD_IDS, FormValues, station_settings_json
from sim.settings import SettingsError, StationSettings

__all__ = ["SettingsForm"]

URL_FIELD = FIELD_IDS["csms_url"]


class SettingsForm:
    """Reads and writes the form's fields and turns them into StationSettings."""

    def __init__(self, binder: Binder) -> None:
        self.binder = binder
        # The last form read and what it made: settings are checked once per change of the form.
        self._parsed: tuple[FormValues, StationSettings | None, str | None] | None = None

    def read(self) -> FormValues:
        return FormValues(
            **{name: str(by_id(element).value) for name, element in FIELD_IDS.items()}
        )

    def write(self, form: FormValues) -> None:
        for name, element in FIELD_IDS.items():
            by_id(element).value = getattr(form, name)

    def settings(self) -> tuple[StationSettings | None, str | None]:
        """The settings the form holds, or None and what is wrong (the URL field is marked
        invalid when the URL is missing or is what is wrong)."""
        form = self.read()
        if self._parsed is None or self._parsed[0] != form:
            field: str | None = None
            try:
                settings: StationSettings | None = StationSettings.from_json(
                    station_settings_json(form)
                )
                problem = None
            except SettingsError as exc:
                settings, problem, field = None, str(exc), exc.name
            except ValueError as exc:
                settings, problem = None, str(exc)
            self._parsed = (form, settings, problem)
            url_invalid = not form.csms_url.strip() or field == "csms_url"
            self.binder.attr(by_id(URL_FIELD), "aria-invalid", "true" if url_invalid else None)
        return self._parsed[1], self._parsed[2]

    def show_problem(self, problem: str | None, tone: str = "error") -> None:
        node = by_id("settings-message")
        self.binder.text(node, problem or "")
        self.binder.attr(node, "data-tone", tone if problem else None)
