"""Words and numbers of the outputs in each language: one table of labels per language.

Reports, maps and workbooks ask :class:`Labels` for every word they show, and for
every number they print, so that a Swedish report reads ``12 345,6`` and an
English one ``12,345.6``. Town and county names are shown as they are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Every label, by language. Keys are the outputs' column names and phrases.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        # columns
        "office_id": "Office id",
        "name": "Office",
        "office_name": "Office",
        "organizer_id": "Organizer id",
        "organizer_name": "Organizer",
        "municipality": "Municipality",
        "county_id": "County code",
        "county": "County",
        "counties": "Counties served",
        "required": "Required",
        "organizers": "Organizers",
        "weight": "Weight",
        "mean_minutes": "Mean travel (min)",
        "median_minutes": "Median travel (min)",
        "max_minutes": "Longest travel (min)",
        "travel_minutes": "Travel (min)",
        "mode": "Travel mode",
        "scenario": "Scenario",
        "offices": "Offices",
        "n_offices": "Number of offices",
        "share_within_2h": "Within 2 h",
        "share_within_3h": "Within 3 h",
        "organizers_per_office_min": "Fewest organizers per office",
        "organizers_per_office_max": "Most organizers per office",
        "objective": "Objective",
        "status": "Solver status",
        "optimality": "Optimality",
        "gap": "Proven gap",
        "gap_percent": "Proven gap (%)",
        "objective_travel_minutes": "Travel (weighted minutes)",
        "fixed_cost_sek": "Fixed cost of offices (SEK)",
        "travel_cost_sek": "Travel cost (SEK)",
        "value": "Value",
        "setting": "Setting",
        "figure": "Figure",
        "criteria_met": "Criteria met",
        "criteria_not_met": "Criteria not met",
        "town": "Town",
        "note": "Note",
        "forced_objective": "Objective with it forced in",
        "extra_cost": "Extra cost",
        "extra_travel_minutes": "Extra travel (weighted minutes)",
        "offices_with_it": "Offices then",
        "closed_objective": "Objective with it closed",
        "office_value": "Value of the office",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "price": "Price: {label}",
        "minutes_to": "{label} (min)",
        # KPIs
        "kpi_offices": "Offices",
        "kpi_organizers": "Organizers",
        "kpi_mean_minutes": "Mean travel minutes (weighted)",
        "kpi_median_minutes": "Median travel minutes",
        "kpi_max_minutes": "Longest travel minutes",
        "kpi_share_within_120_min": "Share of organizers within 2 h",
        "kpi_share_within_180_min": "Share of organizers within 3 h",
        "kpi_organizers_per_office_min": "Fewest organizers per office",
        "kpi_organizers_per_office_max": "Most organizers per office",
        "kpi_objective": "Objective",
        "kpi_gap": "Optimality",
        # optimality
        "proven_optimal": "proven optimal",
        "within_gap": "within {gap} % of optimal",
        "no_bound": "feasible, no proven bound",
        # sections
        "key_figures": "Key figures",
        "map": "Map",
        "interactive_map": "Interactive map",
        "offices_heading": "Offices",
        "objective_heading": "What the objective is made of",
        "prices_heading": "Price of each hard criterion",
        "values_heading": "Value of each office",
        "why_heading": "Why these towns",
        "reference_heading": "The reference towns forced in",
        "settings_heading": "Settings solved",
        "sources_heading": "Sources and provenance",
        "criteria_heading": "Criteria",
        "assignments_heading": "Organizers",
        # sentences
        "modified": "modified",
        "scenario_file": "Scenario file",
        "overrides": "Overrides",
        "none": "none",
        "built_in_code": "built in code",
        "siting_version": "siting version",
        "scenario_hash": "Scenario hash",
        "solver": "Solver",
        "seconds": "Seconds",
        "data": "Data",
        "manifest": "Manifest",
        "travel": "Travel",
        "solved_settings": (
            "{offices} offices, objective {objective}; the table lists every setting solved, "
            "defaults included."
        ),
        "part_travel": (
            "Travel: every organizer's minutes to its office, times its weight, summed. "
            "This is what the organizers feel."
        ),
        "part_price": (
            "Price of the soft criterion \u201c{label}\u201d: {price} for each office that "
            "does not meet it (a scenario setting, in the objective's units). It is a "
            "steering price, not a travel time."
        ),
        "part_spread": (
            "Price of the spread rule: {price} per weighted minute beyond {limit} minutes."
        ),
        "part_fixed": "Fixed cost: the yearly cost of each open office, summed (SEK).",
        "part_travel_sek": "Travel cost: the travel minutes priced per trip minute (SEK).",
        "part_objective": "Objective: what the solver minimised, the sum of the rows above.",
        "prices_intro": (
            "Each hard criterion was dropped in turn and the scenario solved again: the "
            "difference is what the criterion costs in the objective."
        ),
        "prices_none": "No hard criteria besides the number of offices were priced.",
        "prices_off": (
            "Not computed; `siting solve --prices` solves once without each hard criterion."
        ),
        "infeasible": "infeasible",
        "values_intro": (
            "Each office was closed in turn and the scenario solved again with the same "
            "number of offices: another town may open in its place and the other offices "
            "may move (unless required). The value is the objective then minus the base "
            "objective {objective}. A positive value is what the office is worth where it "
            "stands; a negative one means that moving this office to the best other town "
            "would lower the objective by that much."
        ),
        "values_off": ("Not computed; `siting solve --office-values` closes each office in turn."),
        "why_intro": "The criteria each chosen office meets, as the data declares them.",
        "reference_intro": (
            "Each reference town was forced in (required, same number of offices) and the "
            "scenario solved again: the extra cost is what choosing it instead costs."
        ),
        "already_chosen": "already chosen",
        "not_candidate": "not a candidate town",
        "map_hint": (
            "Hover over or tap a municipality to see its organizers, their office, travel "
            "minutes and mode. Tick the boxes to show or hide layers."
        ),
        "layer_regions": "Office regions",
        "layer_railways": "Railways",
        "layer_candidates": "Candidate towns",
        "layer_offices": "Offices",
        "layer_organizers": "Organizers",
        "office": "Office",
        "required_office": "Required office",
        "candidate_not_chosen": "Candidate not chosen",
        "organizer_size": "Organizer (size: weight)",
        "railway_intercity": "Railway, intercity",
        "railway_regional": "Railway, regional only",
        "estimate_note": (
            "Road minutes come from the estimate backend (straight line \u00d7 circuity "
            "\u00f7 speed, ferries for Gotland): an estimate, not a route-planner time."
        ),
        "rail_note": (
            "Rail legs use line speeds calibrated to published fastest times, plus {transfer} "
            "minutes' transfer at each end."
        ),
        "facts_note": (
            "Facts (offices and the sites the criteria read) carry a source each in {file}."
        ),
        "map_footer": "Mean {mean} min, longest {longest} min; {optimality}.",
        "map_travel": "Travel: {modes} (road minutes estimated).",
        "comparison_title": "Comparison of scenarios",
        "comparison_intro": (
            "The scenarios side by side. Hover over or tap a municipality in any panel to "
            "see its office in every scenario."
        ),
        "mode_road": "road",
        "mode_rail": "rail",
        "mode_road+ferry": "road and ferry",
        "mode_rail+ferry": "rail and ferry",
        "choices_title": "How often each town is chosen",
    },
    "sv": {
        "office_id": "Kontorets id",
        "name": "Kontor",
        "office_name": "Kontor",
        "organizer_id": "Huvudmannens id",
        "organizer_name": "Huvudman",
        "municipality": "Kommun",
        "county_id": "Länskod",
        "county": "Län",
        "counties": "Län som betjänas",
        "required": "Krav",
        "organizers": "Huvudmän",
        "weight": "Vikt",
        "mean_minutes": "Medelrestid (min)",
        "median_minutes": "Medianrestid (min)",
        "max_minutes": "Längsta restid (min)",
        "travel_minutes": "Restid (min)",
        "mode": "Färdsätt",
        "scenario": "Scenario",
        "offices": "Kontor",
        "n_offices": "Antal kontor",
        "share_within_2h": "Inom 2 h",
        "share_within_3h": "Inom 3 h",
        "organizers_per_office_min": "Minst antal huvudmän per kontor",
        "organizers_per_office_max": "Flest huvudmän per kontor",
        "objective": "Målvärde",
        "status": "Lösarstatus",
        "optimality": "Optimalitet",
        "gap": "Bevisat gap",
        "gap_percent": "Bevisat gap (%)",
        "objective_travel_minutes": "Restid (viktade minuter)",
        "fixed_cost_sek": "Fast kostnad för kontoren (kr)",
        "travel_cost_sek": "Resekostnad (kr)",
        "value": "Värde",
        "setting": "Inställning",
        "figure": "Mått",
        "criteria_met": "Uppfyllda kriterier",
        "criteria_not_met": "Ej uppfyllda kriterier",
        "town": "Ort",
        "note": "Anmärkning",
        "forced_objective": "Målvärde med orten tvingad",
        "extra_cost": "Merkostnad",
        "extra_travel_minutes": "Extra restid (viktade minuter)",
        "offices_with_it": "Kontor då",
        "closed_objective": "Målvärde med kontoret stängt",
        "office_value": "Kontorets värde",
        "yes": "ja",
        "no": "nej",
        "unknown": "okänt",
        "price": "Pris: {label}",
        "minutes_to": "{label} (min)",
        "kpi_offices": "Kontor",
        "kpi_organizers": "Huvudmän",
        "kpi_mean_minutes": "Medelrestid i minuter (viktad)",
        "kpi_median_minutes": "Medianrestid i minuter",
        "kpi_max_minutes": "Längsta restid i minuter",
        "kpi_share_within_120_min": "Andel huvudmän inom 2 h",
        "kpi_share_within_180_min": "Andel huvudmän inom 3 h",
        "kpi_organizers_per_office_min": "Minst antal huvudmän per kontor",
        "kpi_organizers_per_office_max": "Flest huvudmän per kontor",
        "kpi_objective": "Målvärde",
        "kpi_gap": "Optimalitet",
        "proven_optimal": "bevisat optimal",
        "within_gap": "högst {gap} % från optimum",
        "no_bound": "tillåten lösning, ingen bevisad gräns",
        "key_figures": "Nyckeltal",
        "map": "Karta",
        "interactive_map": "Interaktiv karta",
        "offices_heading": "Kontor",
        "objective_heading": "Vad målvärdet består av",
        "prices_heading": "Priset för varje skarpt kriterium",
        "values_heading": "Varje kontors värde",
        "why_heading": "Varför dessa orter",
        "reference_heading": "Referensorterna tvingade in",
        "settings_heading": "Inställningar som lösts",
        "sources_heading": "Källor och ursprung",
        "criteria_heading": "Kriterier",
        "assignments_heading": "Huvudmän",
        "modified": "ändrat",
        "scenario_file": "Scenariofil",
        "overrides": "Ändringar",
        "none": "inga",
        "built_in_code": "skapat i kod",
        "siting_version": "siting-version",
        "scenario_hash": "Scenariots hash",
        "solver": "Lösare",
        "seconds": "Sekunder",
        "data": "Data",
        "manifest": "Manifest",
        "travel": "Resor",
        "solved_settings": (
            "{offices} kontor, mål {objective}; tabellen listar varje inställning som lösts, "
            "standardvärden inräknade."
        ),
        "part_travel": (
            "Restid: varje huvudmans minuter till sitt kontor gånger dess vikt, summerat. "
            "Det är detta huvudmännen märker."
        ),
        "part_price": (
            "Pris för det mjuka kriteriet \u201c{label}\u201d: {price} för varje kontor som "
            "inte uppfyller det (en scenarioinställning, i målvärdets enheter). Det är ett "
            "styrpris, inte en restid."
        ),
        "part_spread": (
            "Pris för spridningsregeln: {price} per viktad minut utöver {limit} minuter."
        ),
        "part_fixed": "Fast kostnad: varje öppet kontors årskostnad, summerad (kr).",
        "part_travel_sek": "Resekostnad: restiden prissatt per resminut (kr).",
        "part_objective": "Målvärde: det lösaren minimerade, summan av raderna ovan.",
        "prices_intro": (
            "Varje skarpt kriterium togs bort i tur och ordning och scenariot löstes igen: "
            "skillnaden är vad kriteriet kostar i målvärdet."
        ),
        "prices_none": "Inga skarpa kriterier utöver antalet kontor prissattes.",
        "prices_off": (
            "Ej beräknat; `siting solve --prices` löser en gång utan varje skarpt kriterium."
        ),
        "infeasible": "ogenomförbart",
        "values_intro": (
            "Varje kontor stängdes i tur och ordning och scenariot löstes igen med samma "
            "antal kontor: en annan ort kan öppna i dess ställe och de övriga kontoren kan "
            "flytta (om de inte är krav). Värdet är målvärdet då minus grundvärdet "
            "{objective}. Ett positivt värde är vad kontoret är värt där det ligger; ett "
            "negativt betyder att målvärdet sjunker så mycket om kontoret flyttas till den "
            "bästa andra orten."
        ),
        "values_off": ("Ej beräknat; `siting solve --office-values` stänger varje kontor i tur."),
        "why_intro": "De kriterier varje valt kontor uppfyller, så som datan deklarerar dem.",
        "reference_intro": (
            "Varje referensort tvingades in (som krav, samma antal kontor) och scenariot "
            "löstes igen: merkostnaden är vad det kostar att välja den i stället."
        ),
        "already_chosen": "redan vald",
        "not_candidate": "ingen kandidatort",
        "map_hint": (
            "För muspekaren över eller tryck på en kommun för att se dess huvudmän, deras "
            "kontor, restid och färdsätt. Kryssa i rutorna för att visa eller dölja lager."
        ),
        "layer_regions": "Kontorsregioner",
        "layer_railways": "Järnvägar",
        "layer_candidates": "Kandidatorter",
        "layer_offices": "Kontor",
        "layer_organizers": "Huvudmän",
        "office": "Kontor",
        "required_office": "Kontor som krav",
        "candidate_not_chosen": "Kandidatort, ej vald",
        "organizer_size": "Huvudman (storlek: vikt)",
        "railway_intercity": "Järnväg, fjärrtåg",
        "railway_regional": "Järnväg, endast regionaltåg",
        "estimate_note": (
            "Vägminuterna kommer från skattningen (fågelvägen \u00d7 omvägsfaktor \u00f7 "
            "hastighet, färjor till Gotland): en skattning, inte en reseplanerares tid."
        ),
        "rail_note": (
            "Tågsträckor använder linjehastigheter kalibrerade mot publicerade snabbaste "
            "restider, plus {transfer} minuters byte i varje ände."
        ),
        "facts_note": (
            "Fakta (kontor och platser som kriterierna läser) har var sin källa i {file}."
        ),
        "map_footer": "Medel {mean} min, längst {longest} min; {optimality}.",
        "map_travel": "Resor: {modes} (vägminuter skattade).",
        "comparison_title": "Jämförelse av scenarier",
        "comparison_intro": (
            "Scenarierna sida vid sida. För muspekaren över eller tryck på en kommun i valfri "
            "panel för att se dess kontor i varje scenario."
        ),
        "mode_road": "väg",
        "mode_rail": "tåg",
        "mode_road+ferry": "väg och färja",
        "mode_rail+ferry": "tåg och färja",
        "choices_title": "Hur ofta varje ort väljs",
    },
}


@dataclass(frozen=True)
class Labels:
    """The words and number formats of one language (``sv`` or ``en``)."""

    language: str = "en"

    def __call__(self, key: str, **values: object) -> str:
        """The label of ``key``, with ``{placeholders}`` filled; the key itself if unknown."""
        table = LABELS.get(self.language, LABELS["en"])
        text = table.get(key, LABELS["en"].get(key, key))
        return text.format(**values) if values else text

    def number(self, value: object, decimals: int = 1) -> str:
        r"""A number in this language's style: ``12 345,6`` (sv) or ``12,345.6`` (en).

        >>> Labels("sv").number(12345.63), Labels("en").number(12345.63)
        ('12\xa0345,6', '12,345.6')
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "\u2013"
        if isinstance(value, bool):
            return self("yes") if value else self("no")
        if isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu"):
            decimals = 0
        text = f"{float(value):,.{decimals}f}"
        if self.language == "sv":
            text = text.replace(",", "\xa0").replace(".", ",").replace("-", "\u2212")
        return text

    def share(self, value: float, decimals: int = 1) -> str:
        """A share as a percentage: ``46,6 %`` (sv) or ``46.6%`` (en)."""
        number = self.number(100 * value, decimals)
        return f"{number}\xa0%" if self.language == "sv" else f"{number}%"

    def optimality(self, status: str, gap: float) -> str:
        """``proven optimal``, ``within 0.4 % of optimal``, or ``feasible, no proven bound``."""
        if gap is None or not math.isfinite(gap) or gap >= 1:
            return self("no_bound")
        if status == "optimal" and gap < 5e-5:
            return self("proven_optimal")
        percent = 100 * gap
        shown = self.number(percent, 1 if percent >= 0.1 else 2)
        if shown in ("0,00", "0.00"):
            shown = self.number(percent, 4)
        return self("within_gap", gap=shown)

    def mode(self, mode: str) -> str:
        """A travel mode (``road``, ``rail+ferry``, ...) in words."""
        return self(f"mode_{mode}") if f"mode_{mode}" in LABELS["en"] else mode


def language_of(run) -> str:
    """The language of a run's outputs: the scenario's, else the manifest's, else English."""
    chosen = run.scenario.outputs.language
    if chosen:
        return chosen
    declared = getattr(run.atlas.spec, "language", "en")
    return declared if declared in LABELS else "en"


def labels_for(run) -> Labels:
    """The :class:`Labels` of a run's outputs (see :func:`language_of`)."""
    return Labels(language_of(run))
