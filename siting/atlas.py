"""The atlas: regions, places and facts of one country, checked on load.

An atlas is described by a small YAML manifest (the shipped one is
``data/sweden.yaml``) that names its files. The engine knows nothing of any
country: every name, code and CRS comes from the manifest and its tables.

Tables and their standard columns
---------------------------------
counties (polygon layer)
    ``county_id``, ``name``
municipalities (polygon layer)
    ``municipality_id``, ``name``, ``county_id``
localities (CSV)
    ``locality_id``, ``name``, ``latitude``, ``longitude``, ``population``,
    ``municipality_id``; optional: ``geonames_name`` (another name that
    matches) and ``section_of`` (the id of the city a place is a district of:
    such places are neither candidates nor counted in population estimates)
sites (CSV)
    ``site_id``, ``kind``, ``name``, ``town``, ``status``, ``verified``,
    ``source_url``, ``note``; optional ``office_type``
population (CSV, optional)
    ``municipality_id``, ``population``: the official population of every
    municipality (Sweden: SCB, 31 December 2021)
"""

from __future__ import annotations

import difflib
import logging
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from siting import organizers as _organizers
from siting._yaml import read_yaml
from siting.errors import DataError, UnknownNameError

log = logging.getLogger(__name__)

OrganizerWeight = Literal["one", "population", "file"]
OrganizerSource = Literal["municipal", "estimate"]


def default_data_dir() -> Path:
    """Where the shipped data live: beside the package in a wheel, else the repo's ``data/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "sweden.yaml").is_file():
            return candidate
    raise DataError(
        "the shipped data set is missing: neither siting/_data/ nor data/ holds sweden.yaml; "
        "reinstall siting or pass a manifest path"
    )


def default_manifest() -> Path:
    """Path of the shipped Swedish atlas manifest."""
    return default_data_dir() / "sweden.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerSpec(_Strict):
    """A polygon layer in a vector file."""

    file: str
    layer: str | None = None


class TableSpec(_Strict):
    """A CSV table."""

    file: str


class LayerStyle(_Strict):
    """How one kind of site is named and drawn on maps (a matplotlib marker and colour)."""

    label: str
    marker: str = "o"
    colour: str = "#555555"
    filled: bool = True
    size: float = Field(7.0, gt=0)


class SitesSpec(TableSpec):
    """The facts table, which kinds are the agency's own offices, and each kind's style.

    ``layers`` names every kind of site a map should draw, with its label and
    symbol; a kind without one is drawn with a default symbol and its own name.
    """

    office_kinds: list[str] = Field(default_factory=list)
    layers: dict[str, LayerStyle] = Field(default_factory=dict)


#: Attributes of towns the engine derives from the atlas's data, beside boolean
#: columns of the localities table: a station on the manifest's rail network, and
#: a station on one of its intercity lines.
DERIVED_ATTRIBUTES = ("station", "intercity_station")


class CriterionSpec(_Strict):
    """A siting criterion declared by the manifest, in one of three kinds.

    - ``colocate_with``: an office only where a site of these kinds is in town;
    - ``near``: a site of these kinds within ``max_minutes`` of the office (by
      the scenario's travel modes);
    - ``attribute``: a yes/no property of the town, a boolean column of the
      localities table or one of :data:`DERIVED_ATTRIBUTES`.

    Scenarios switch and price it by name under ``model.criteria``.
    """

    label: str = ""
    colocate_with: list[str] | None = None
    near: list[str] | None = None
    attribute: str | None = None
    max_minutes: float = Field(60.0, ge=0, description="Default nearness limit.")

    @model_validator(mode="after")
    def _one_kind(self) -> CriterionSpec:
        given = [k for k in ("colocate_with", "near", "attribute") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of colocate_with (site kinds), near (site kinds) or "
                f"attribute (a town attribute); got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        """``colocate``, ``near`` or ``attribute``."""
        if self.colocate_with:
            return "colocate"
        return "near" if self.near else "attribute"

    @property
    def site_kinds(self) -> list[str]:
        """The kinds of site this criterion reads (empty for attributes)."""
        return list(self.colocate_with or self.near or [])


class CandidatesSpec(_Strict):
    """Default rule for candidate office towns."""

    min_population: int = Field(20000, ge=0)
    site_kinds: list[str] = Field(default_factory=list)


class PopulationSpec(TableSpec):
    """The official population of every municipality, with its date and source."""

    reference_date: str
    source: str


class EstimateSpec(_Strict):
    """How to estimate organizers when no list of them is at hand.

    ``total`` organizers in all (a sourced count): one per municipality, the
    rest independent, spread in proportion to municipal population.
    """

    total: int = Field(gt=0)
    source: str


class OrganizersSpec(_Strict):
    """Facts about the organizers of the country."""

    estimate: EstimateSpec | None = None


class FerrySpec(_Strict):
    """A ferry link between an island (whole counties) and the mainland."""

    island_counties: list[str]
    island_terminal: str
    mainland_terminal: str
    crossing_min: float = Field(gt=0)
    boarding_min: float = Field(0.0, ge=0)
    source: str = ""


class AtlasSpec(_Strict):
    """The manifest of an atlas (``data/sweden.yaml`` for the shipped one)."""

    name: str
    crs: str
    bounds_lonlat: tuple[float, float, float, float]
    terms: dict[str, str] = Field(default_factory=dict)
    language: str = Field("en", description="Language of reports by default (sv, en).")
    counties: LayerSpec
    municipalities: LayerSpec
    localities: TableSpec
    sites: SitesSpec
    population: PopulationSpec | None = None
    organizers: OrganizersSpec = OrganizersSpec()
    candidates: CandidatesSpec = CandidatesSpec()
    ferries: list[FerrySpec] = Field(default_factory=list)
    rail: TableSpec | None = None
    criteria: dict[str, CriterionSpec] = Field(default_factory=dict)
    attribution: str = ""

    @model_validator(mode="after")
    def _criteria_known(self) -> AtlasSpec:
        problems = []
        for name, criterion in self.criteria.items():
            if criterion.attribute in DERIVED_ATTRIBUTES and self.rail is None:
                problems.append(
                    f"criteria.{name}: the attribute {criterion.attribute} needs a rail network "
                    "(rail: file)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


def read_manifest(path: str | Path) -> tuple[AtlasSpec, Path]:
    """Read and validate an atlas manifest; return it and the folder its paths are relative to."""
    path = Path(path)
    raw = read_yaml(path, what="atlas manifest", error=DataError)
    try:
        spec = AtlasSpec.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise DataError(problems, source=str(path)) from None
    return spec, path.parent


@dataclass(frozen=True, eq=False)
class Atlas:
    """Regions, places and facts of one country, in one projected CRS.

    Every table is a GeoDataFrame indexed by a stable string id. Build one with
    :func:`load_atlas`; the constructor does not validate.

    Attributes
    ----------
    spec
        The manifest the atlas was loaded from.
    counties
        Index ``county_id``; ``name``, polygons.
    municipalities
        Index ``municipality_id``; ``name``, ``county_id``, polygons.
    localities
        Index ``locality_id``; ``name``, ``population``, ``municipality_id``,
        ``county_id``, points.
    sites
        Index ``site_id``; ``kind``, ``name``, ``town``, ``locality_id``,
        ``status``, ``verified``, ``source_url``, ``note``, points.
    organizers
        Index ``organizer_id``; ``name``, ``municipality_id``, ``county_id``,
        ``weight``, ``organizer_type``, ``location_method``, points. See
        :mod:`siting.organizers`.
    candidates
        Index ``candidate_id`` (a locality id); ``name``, ``municipality_id``,
        ``county_id``, ``population`` (the place's), ``municipality_population``,
        ``reasons``, points.
    organizer_source
        Where the organizers came from, in words (for reports).
    estimates
        Which inputs are estimates rather than sourced facts, in words.

    """

    spec: AtlasSpec
    counties: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    localities: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    organizers: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    source: Path | None = field(default=None, compare=False)
    organizer_source: str = ""
    estimates: tuple[str, ...] = ()

    @property
    def crs(self) -> str:
        """The projected CRS every table is in."""
        return self.spec.crs

    @property
    def rail_file(self) -> Path | None:
        """The rail line file the manifest names, if any."""
        if self.spec.rail is None or self.source is None:
            return None
        return self.source.parent / self.spec.rail.file

    @cached_property
    def _names(self) -> dict[str, list[str]]:
        return _name_index(self.localities)

    def locality_id(self, town: str) -> str:
        """The locality id of a town name.

        Matching ignores case. A name shared by several localities must be
        written ``"Name (Municipality)"``; a locality id is accepted as is.

        Raises
        ------
        UnknownNameError
            The name is unknown (the closest names are suggested) or ambiguous
            (the qualified forms are listed).

        """
        return _resolve_town(town, self.localities, self._names)

    def layer(self, kinds: str | list[str]) -> gpd.GeoDataFrame:
        """The sites of some kinds, one row per town (the first site of each town)."""
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        return self.sites[self.sites["kind"].isin(kinds)].drop_duplicates("locality_id")

    def layer_style(self, kind: str) -> LayerStyle:
        """The manifest's style for a kind of site, or a default one named after it."""
        return self.spec.sites.layers.get(kind) or LayerStyle(label=kind.replace("_", " "))

    def summary(self) -> dict[str, int]:
        """Counts of everything the atlas holds, for the ``siting atlas`` command.

        Each kind of site is counted in towns, as the map legend counts it.
        """
        spec = self.spec.sites
        counts = {
            "counties": len(self.counties),
            "municipalities": len(self.municipalities),
            "localities": len(self.localities),
            "organizers": len(self.organizers),
            "candidates": len(self.candidates),
            "offices": len(self.sites[self.sites["kind"].isin(spec.office_kinds)]),
            "site_rows": len(self.sites),
        }
        for kind in sorted(set(self.sites["kind"]) - set(spec.office_kinds)):
            counts[f"{kind}_towns"] = len(self.layer(kind))  # as draw_layers counts them
        counts["unverified_site_rows"] = int((~self.sites["verified"]).sum())
        return counts

    def unverified_sites(self) -> pd.DataFrame:
        """The fact rows whose source was not read or does not state the fact itself."""
        columns = ["kind", "name", "town", "source_url", "note"]
        return pd.DataFrame(self.sites.loc[~self.sites["verified"], columns])


def _name_index(localities: pd.DataFrame) -> dict[str, list[str]]:
    """Case-folded place name -> locality ids, from ``name`` and ``geonames_name``."""
    table: dict[str, list[str]] = {}
    for column in ("name", "geonames_name"):
        if column not in localities:
            continue
        for locality_id, name in localities[column].items():
            ids = table.setdefault(str(name).casefold(), [])
            if locality_id not in ids:
                ids.append(locality_id)
    return table


def _resolve_town(town: str, localities: pd.DataFrame, names: dict[str, list[str]]) -> str:
    if town in localities.index:
        return town
    key = town.strip().casefold()
    qualifier = None
    if key.endswith(")") and "(" in key:
        key, qualifier = (part.strip() for part in key[:-1].split("(", 1))
    ids = names.get(key, [])
    if qualifier is not None:
        ids = [i for i in ids if str(localities.at[i, "municipality_name"]).casefold() == qualifier]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
        shown = [localities.at[names[c][0], "name"] for c in close]
        hint = f"; did you mean {', '.join(repr(s) for s in shown)}?" if shown else ""
        raise UnknownNameError(f"unknown town {town!r}{hint}")
    choices = ", ".join(
        f"'{localities.at[i, 'name']} ({localities.at[i, 'municipality_name']})'" for i in ids
    )
    raise UnknownNameError(f"town {town!r} is ambiguous; write one of {choices}")


def _read_layer(spec: LayerSpec, base: Path, what: str, crs: str, problems: list[str]):
    path = base / spec.file
    if not path.is_file():
        raise DataError(f"{what}: file not found: {path}; rebuild it (see data/README.md)")
    try:
        frame = gpd.read_file(path, layer=spec.layer)
    except Exception as exc:  # pyogrio/GDAL raise several types for unreadable files
        try:
            import pyogrio

            layers = [str(name) for name, _ in pyogrio.list_layers(path)]
            hint = f"; the file's layers are {', '.join(layers)}" if layers else ""
        except Exception:
            hint = "; the file is not a readable vector file"
        raise DataError(
            f"{what}.file / {what}.layer: cannot read layer {spec.layer!r} of {path}: "
            f"{str(exc).splitlines()[0]}{hint}"
        ) from None
    if frame.crs is None:
        problems.append(f"{what} ({path.name}): no CRS; expected {crs}")
    elif not frame.crs.equals(crs):
        problems.append(f"{what} ({path.name}): CRS is {frame.crs.to_string()}, expected {crs}")
    return frame


def _read_csv(spec: TableSpec, base: Path, what: str) -> pd.DataFrame:
    path = base / spec.file
    if not path.is_file():
        raise DataError(f"{what}: file not found: {path}; rebuild it (see data/README.md)")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"{what}.file: cannot read {path} as UTF-8 CSV: {str(exc).splitlines()[0]}"
        ) from None


def _require(frame: pd.DataFrame, columns: list[str], what: str, problems: list[str]) -> bool:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        problems.append(f"{what}: missing column(s) {', '.join(missing)}")
    return not missing


def _duplicates(ids: pd.Series, what: str, problems: list[str]) -> None:
    dup = sorted(set(ids[ids.duplicated()]))
    if dup:
        problems.append(f"{what}: duplicate id(s) {', '.join(map(str, dup[:10]))}")


def load_atlas(
    manifest: str | Path | None = None,
    *,
    organizers: OrganizerSource | gpd.GeoDataFrame = "municipal",
    organizers_file: str | Path | None = None,
    school_register: str | Path | None = None,
    organizer_weight: OrganizerWeight = "one",
    min_population: int | None = None,
) -> Atlas:
    """Load and validate an atlas.

    Parameters
    ----------
    manifest
        Path of the atlas manifest; the shipped Swedish one by default.
    organizers
        ``"municipal"``: one organizer per municipality at its main place (see
        :func:`siting.organizers.main_places`). ``"estimate"``: the manifest's
        ``organizers.estimate`` (municipal ones plus independent ones by
        population; an **estimate**, labelled so). Or a GeoDataFrame of
        organizers in the manifest's CRS.
    organizers_file
        A CSV or Excel sheet of organizers (see
        :func:`siting.organizers.organizers_from_file`); wins over ``organizers``.
    school_register
        A folder saved by ``siting data fetch-register``; wins over ``organizers``.
    organizer_weight
        ``"one"`` (each organizer one dialogue), ``"population"`` (municipal
        organizers weigh their municipality's official population) or
        ``"file"`` (the sheet's ``weight`` column).
    min_population
        Candidate towns: the main place of every municipality with at least this
        official population (or, without a population table, every locality
        with at least this population), plus the towns of the manifest's
        ``candidates.site_kinds``. Defaults to the manifest.

    Returns
    -------
    Atlas
        Every table in the manifest's CRS, indexed by string id.

    Raises
    ------
    DataError
        One error listing every problem found in the manifest's files: missing
        files or columns, unreadable layers, wrong CRS, duplicate ids, a
        municipality in no county, a place outside the country's bounds, an
        unknown town, a missing population. Problems with organizers from a
        sheet or a register are reported as one error naming that file.

    """
    path = Path(manifest) if manifest is not None else default_manifest()
    spec, base = read_manifest(path)
    problems: list[str] = []

    counties = _read_layer(spec.counties, base, "counties", spec.crs, problems)
    municipalities = _read_layer(spec.municipalities, base, "municipalities", spec.crs, problems)
    raw_localities = _read_csv(spec.localities, base, "localities")
    raw_sites = _read_csv(spec.sites, base, "sites")
    ok = all(
        [
            _require(counties, ["county_id", "name"], "counties", problems),
            _require(
                municipalities, ["municipality_id", "name", "county_id"], "municipalities", problems
            ),
            _require(
                raw_localities,
                ["locality_id", "name", "latitude", "longitude", "population", "municipality_id"],
                "localities",
                problems,
            ),
            _require(
                raw_sites,
                ["site_id", "kind", "name", "town", "status", "verified", "source_url"],
                "sites",
                problems,
            ),
        ]
    )
    if not ok or problems:
        raise DataError(problems, source=str(path))

    _duplicates(counties["county_id"], "counties", problems)
    _duplicates(municipalities["municipality_id"], "municipalities", problems)
    _duplicates(raw_localities["locality_id"], "localities", problems)
    _duplicates(raw_sites["site_id"], "sites", problems)

    counties = counties.set_index("county_id", drop=True)
    municipalities = municipalities.set_index("municipality_id", drop=True)
    orphans = municipalities.index[~municipalities["county_id"].isin(counties.index)]
    for mid in orphans:
        problems.append(
            f"municipality {mid} ({municipalities.at[mid, 'name']}) is in no county: "
            f"county_id {municipalities.at[mid, 'county_id']!r} is not among the counties"
        )
    if spec.population is not None:
        municipalities = _population(spec, base, municipalities, problems)

    before = len(problems)
    localities = _localities(raw_localities, municipalities, spec, problems)
    if len(problems) > before:  # sites and organizers need valid localities
        raise DataError(problems, source=str(path))

    names = _name_index(localities)
    sites = _sites(raw_sites, localities, names, problems)
    known_kinds = set(raw_sites["kind"]) | set(spec.sites.layers)  # a declared layer may be empty
    for name, criterion in spec.criteria.items():
        unknown_kinds = [k for k in criterion.site_kinds if k not in known_kinds]
        if unknown_kinds:
            problems.append(
                f"criteria.{name}: kind {', '.join(unknown_kinds)} is neither declared under "
                f"sites.layers nor found in {spec.sites.file}; known kinds: "
                f"{', '.join(sorted(known_kinds))}"
            )
        attribute = criterion.attribute
        if attribute and attribute not in DERIVED_ATTRIBUTES:
            column = localities.get(attribute)
            if column is None or column.dtype != bool:
                problems.append(
                    f"criteria.{name}: attribute {attribute!r} is neither a yes/no column of "
                    f"{spec.localities.file} nor one of {', '.join(DERIVED_ATTRIBUTES)}"
                )
    for k, ferry in enumerate(spec.ferries):
        for field_name in ("island_terminal", "mainland_terminal"):
            try:
                _resolve_town(getattr(ferry, field_name), localities, names)
            except UnknownNameError as exc:
                problems.append(f"ferries[{k}].{field_name}: {exc}")
        unknown = [c for c in ferry.island_counties if c not in counties.index]
        if unknown:
            problems.append(f"ferries[{k}].island_counties: unknown county id(s) {unknown}")
    if problems:
        raise DataError(problems, source=str(path))

    places = _organizers.main_places(municipalities, localities)
    organizer_table, organizer_source, estimates = _load_organizers(
        spec,
        path,
        municipalities,
        localities,
        places,
        organizers=organizers,
        organizers_file=organizers_file,
        school_register=school_register,
        weight=organizer_weight,
    )
    candidates = _candidates(spec, municipalities, localities, places, sites, min_population)
    atlas = Atlas(
        spec=spec,
        counties=counties,
        municipalities=municipalities,
        localities=localities,
        sites=sites,
        organizers=organizer_table,
        candidates=candidates,
        source=path,
        organizer_source=organizer_source,
        estimates=tuple(estimates),
    )
    log.info(
        "loaded atlas %s: %d counties, %d municipalities, %d localities, %d organizers (%s), "
        "%d candidates, %d sites",
        spec.name,
        len(counties),
        len(municipalities),
        len(localities),
        len(organizer_table),
        organizer_source,
        len(candidates),
        len(sites),
    )
    return atlas


def _population(
    spec: AtlasSpec, base: Path, municipalities: gpd.GeoDataFrame, problems: list[str]
) -> gpd.GeoDataFrame:
    """Join the official population of every municipality; list ids missing either way."""
    assert spec.population is not None
    table = _read_csv(spec.population, base, "population")
    if not _require(table, ["municipality_id", "population"], "population", problems):
        return municipalities
    table = table.set_index("municipality_id")
    counts = pd.to_numeric(table["population"], errors="coerce")
    for mid in table.index[counts.isna() | (counts < 0)][:10]:
        problems.append(f"population: {mid}: {table.at[mid, 'population']!r} is not a count")
    missing = municipalities.index.difference(table.index)
    if len(missing):
        problems.append(
            f"population: no population for municipality id(s) {', '.join(missing[:10])}"
        )
    extra = table.index.difference(municipalities.index)
    if len(extra):
        problems.append(f"population: unknown municipality id(s) {', '.join(extra[:10])}")
    return municipalities.assign(population=counts.reindex(municipalities.index).fillna(0))


def _load_organizers(
    spec: AtlasSpec,
    manifest: Path,
    municipalities: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    places: pd.DataFrame,
    *,
    organizers,
    organizers_file,
    school_register,
    weight: str,
) -> tuple[gpd.GeoDataFrame, str, list[str]]:
    """The organizers asked for, a sentence saying where they came from, and the estimates."""
    estimates: list[str] = []
    population_note = (
        f"population: {spec.population.source}, {spec.population.reference_date}"
        if spec.population is not None
        else ""
    )
    if weight == "population" and spec.population is None:
        raise DataError(
            "organizer_weight population needs a population table; the manifest names none",
            source=str(manifest),
        )
    external = organizers_file is not None or school_register is not None
    if weight == "population" and (external or not isinstance(organizers, str)):
        raise DataError(
            "organizer_weight population weighs municipal organizers by their municipality's "
            "population; organizers from a sheet or register take weight one or file"
        )
    if weight == "file" and organizers_file is None:
        raise DataError("organizer_weight file needs data.organizers_file with a weight column")
    if organizers_file is not None:
        table = _organizers.organizers_from_file(
            organizers_file, municipalities, places, bounds_lonlat=spec.bounds_lonlat, crs=spec.crs
        )
        if weight != "file":
            table = table.assign(weight=1.0)
        table = _organizers.check_organizers(
            table, municipalities, spec.crs, source=str(organizers_file)
        )
        return table, f"organizers file {organizers_file} ({len(table):,} organizers)", estimates
    if school_register is not None:
        table = _organizers.organizers_from_register(school_register, spec.crs)
        table = _organizers.check_organizers(
            table, municipalities, spec.crs, source=str(school_register)
        )
        source = f"school-unit register saved in {school_register} ({len(table):,} organizers)"
        return table, source, estimates
    if isinstance(organizers, gpd.GeoDataFrame):
        table = _organizers.check_organizers(organizers, municipalities, spec.crs)
        return table, f"organizers given by the caller ({len(table):,})", estimates
    if organizers == "estimate":
        estimate = spec.organizers.estimate
        if estimate is None or spec.population is None:
            raise DataError(
                "organizers estimate needs organizers.estimate and population in the manifest",
                source=str(manifest),
            )
        table = _organizers.estimated_organizers(
            municipalities, localities, places, total=estimate.total
        )
        independent = int((table["organizer_type"] == "enskild").sum())
        source = (
            f"ESTIMATE: {len(municipalities)} municipal organizers plus {independent:,} "
            f"independent ones spread by municipal population ({estimate.total:,} in all, "
            f"after {estimate.source})"
        )
        estimates.append(
            f"organizers: {len(table):,} estimated (not a register): independent organizers "
            f"placed in proportion to municipal population ({population_note})"
        )
        return table, source, estimates
    if organizers != "municipal":
        raise DataError(f"organizers must be 'municipal' or 'estimate', got {organizers!r}")
    table = _organizers.municipal_organizers(municipalities, places, weight=weight)
    source = f"one organizer per municipality ({len(table)}), at its main place"
    if weight == "population":
        source += f"; weights: {population_note}"
    return table, source, estimates


def _localities(
    raw: pd.DataFrame, municipalities: gpd.GeoDataFrame, spec: AtlasSpec, problems: list[str]
) -> gpd.GeoDataFrame:
    frame = raw.set_index("locality_id", drop=True)
    before = len(problems)
    lat = pd.to_numeric(frame["latitude"], errors="coerce")
    lon = pd.to_numeric(frame["longitude"], errors="coerce")
    population = pd.to_numeric(frame["population"], errors="coerce")
    west, south, east, north = spec.bounds_lonlat
    bad = frame.index[lat.isna() | lon.isna()]
    for lid in bad[:10]:
        problems.append(
            f"locality {lid} ({frame.at[lid, 'name']}): latitude/longitude is not a number"
        )
    outside = frame.index[~(lat.between(south, north) & lon.between(west, east)) & lat.notna()]
    for lid in outside[:10]:
        problems.append(
            f"locality {lid} ({frame.at[lid, 'name']}): ({lat[lid]}, {lon[lid]}) lies outside "
            f"{spec.name}'s bounds {spec.bounds_lonlat} (west, south, east, north)"
        )
    for lid in frame.index[population.isna() | (population < 0)][:10]:
        problems.append(
            f"locality {lid}: population {frame.at[lid, 'population']!r} is not a count"
        )
    unknown = frame.index[~frame["municipality_id"].isin(municipalities.index)]
    for lid in unknown[:10]:
        problems.append(
            f"locality {lid} ({frame.at[lid, 'name']}): municipality_id "
            f"{frame.at[lid, 'municipality_id']!r} is not among the municipalities"
        )
    if len(problems) > before:
        return gpd.GeoDataFrame(frame)
    frame = frame.assign(latitude=lat, longitude=lon, population=population.astype(int))
    if "section_of" not in frame:
        frame["section_of"] = ""
    frame["county_id"] = municipalities.loc[frame["municipality_id"], "county_id"].to_numpy()
    frame["municipality_name"] = municipalities.loc[frame["municipality_id"], "name"].to_numpy()
    points = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=points).to_crs(spec.crs)


def _sites(
    raw: pd.DataFrame,
    localities: gpd.GeoDataFrame,
    names: dict[str, list[str]],
    problems: list[str],
) -> gpd.GeoDataFrame:
    frame = raw.drop_duplicates("site_id").set_index("site_id", drop=True)
    before = len(problems)
    locality_ids = []
    for site_id, town in frame["town"].items():
        try:
            locality_ids.append(_resolve_town(town, localities, names))
        except UnknownNameError as exc:
            problems.append(f"site {site_id}: {exc}")
            locality_ids.append(None)
    verified = frame["verified"].str.strip().str.lower()
    for site_id in frame.index[~verified.isin(["yes", "no"])]:
        problems.append(
            f"site {site_id}: verified must be 'yes' or 'no', got {frame.at[site_id, 'verified']!r}"
        )
    if len(problems) > before:
        return gpd.GeoDataFrame(frame)
    frame = frame.assign(locality_id=locality_ids, verified=verified.eq("yes"))
    frame["municipality_id"] = localities.loc[frame["locality_id"], "municipality_id"].to_numpy()
    frame["county_id"] = localities.loc[frame["locality_id"], "county_id"].to_numpy()
    geometry = localities.geometry.loc[frame["locality_id"]].to_numpy()
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=localities.crs)


def _candidates(
    spec: AtlasSpec,
    municipalities: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    places: pd.DataFrame,
    sites: gpd.GeoDataFrame,
    min_population: int | None,
) -> gpd.GeoDataFrame:
    threshold = spec.candidates.min_population if min_population is None else min_population
    reasons: dict[str, list[str]] = {}
    if "population" in municipalities:
        big = municipalities.index[municipalities["population"] >= threshold]
        for mid in big:
            lid = places.at[mid, "locality_id"]
            if lid:
                reasons.setdefault(lid, []).append(f"municipality_population>={threshold}")
    else:
        whole = localities["section_of"] == ""
        for lid in localities.index[whole & (localities["population"] >= threshold)]:
            reasons.setdefault(lid, []).append(f"population>={threshold}")
    chosen = sites[sites["kind"].isin(spec.candidates.site_kinds)]
    for lid, kind in zip(chosen["locality_id"], chosen["kind"], strict=True):
        if kind not in reasons.setdefault(lid, []):
            reasons[lid].append(kind)
    ids = sorted(reasons)
    frame = localities.loc[ids, ["name", "municipality_id", "county_id", "population", "geometry"]]
    if "population" in municipalities:
        frame.insert(
            4,
            "municipality_population",
            municipalities.loc[frame["municipality_id"], "population"].to_numpy(),
        )
    frame = frame.assign(reasons=[";".join(reasons[i]) for i in ids])
    frame.index.name = "candidate_id"
    return frame
