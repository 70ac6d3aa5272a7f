"""What a simulation run is asked to produce: where, how much, from which seed, with which defects.

The defect rates are the knobs the platform's tests turn. Each rate is a share of the population
it applies to (donation lines, shipment lines, files, …); any rate above zero injects at least one
defect a day wherever the day has something to apply it to, so even a tiny demo exercises every
check. Set a rate to 0 to switch that defect off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class DefectRates:
    """Configurable defect rates (documented defaults)."""

    unknown_sku: float = 0.002  # donation lines and shipment lines keyed with a SKU not in wms.items
    unknown_sku_tefap: float = 0.05  # TEFAP lines whose SKU mapping points to a SKU not in items
    rekeyed_donation: float = 0.002  # donations whose donation_id a clerk re-keys onto a second donation
    orphan_shipment: float = 0.002  # shipment lines naming an order (and order line) that does not exist
    void_posting: float = 0.002  # distributions posted with a wrong quantity, voided and re-posted
    resent_shipment: float = 0.003  # shipment lines re-sent in a later file (new quantity, or is_void=Y)
    negative_stock: float = 0.0002  # open positions driven below zero on a day
    onhand_variance: float = 0.002  # rows of the nightly on-hand snapshot that disagree with the book
    receipt_without_intake: float = 0.002  # donations received in the WMS but missing from intake
    distribution_without_shipment: float = 0.001  # WMS distributions whose shipment line never arrives
    unapproved_adjustment: float = 0.1  # manual adjustment rows without approved_by
    late_file: float = 0.05  # SFTP files delivered 1-3 days after they were due
    dms_restarts_per_day: float = 0.5  # DMS task restarts a day, each replaying the last hour of one system
    deleted_order_line: float = 0.01  # order lines removed by the agency before approval (D rows)
    draft_donation: float = 0.005  # donation headers opened by mistake and deleted (D rows)

    @classmethod
    def none(cls) -> "DefectRates":
        """No defects at all: a clean run, for comparisons."""
        return cls(**{name: 0.0 for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class SimulationConfig:
    """One run of `simulate`.

    landing_root: DMS files go to `<landing_root>/dms/<system>/<schema>/<table>/…`.
    sftp_root: a folder laid out like the SFTP server's `/outbound`.
    manifest_path: where `manifest.json` is written (default `<landing_root>/../manifest.json`).
    start_date: first business date (Pacific); the full load is copied at its midnight.
    days: business days simulated. scale: 1.0 = the brief's production volumes.
    seed: same seed, same bytes. cdc_file_seconds: DMS CDC file interval; None = 60 s at
    scale >= 0.1, 900 s below (fewer, fuller files for demos). Must divide 3600.
    """

    landing_root: Path
    sftp_root: Path
    start_date: date = date(2026, 10, 29)
    days: int = 7
    scale: float = 0.02
    seed: int = 42
    cdc_file_seconds: int | None = None
    defects: DefectRates = field(default_factory=DefectRates)
    manifest_path: Path | None = None

    def __post_init__(self) -> None:
        if self.days < 1 or self.scale <= 0:
            raise ValueError("days must be >= 1 and scale > 0")
        if 3600 % self.file_seconds:
            raise ValueError("cdc_file_seconds must divide 3600 so no file spans two business days")

    @classmethod
    def in_folder(cls, folder: Path, **settings) -> "SimulationConfig":
        """A simulation laid out in one folder: `landing/`, `sftp/` (the server's `/outbound`) and
        `manifest.json`, as the tests and benchmarks lay theirs out."""
        folder = Path(folder)
        return cls(
            landing_root=folder / "landing",
            sftp_root=folder / "sftp",
            manifest_path=folder / "manifest.json",
            **settings,
        )

    @property
    def file_seconds(self) -> int:
        if self.cdc_file_seconds:
            return int(self.cdc_file_seconds)
        return 60 if self.scale >= 0.1 else 900

    @property
    def manifest_file(self) -> Path:
        return Path(self.manifest_path or Path(self.landing_root).parent / "manifest.json")
