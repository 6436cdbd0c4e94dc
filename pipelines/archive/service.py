"""One object that ties the archive together for a county: the evidence requirements expanded into
slots, the workflow store, the evidence folders, and the readiness rules of `pipelines.marts.readiness`.
Used alike by the Dagster asset, the CLI, the sample and the dashboard."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from pipelines.archive import catalog as ec
from pipelines.archive import store as es
from pipelines.catalog import Catalog, load_catalog
from pipelines.marts import readiness
from pipelines.profile import CountyProfile, load_profiles
from pipelines.settings import Settings
from pipelines.workflow.store import Store


@dataclass
class Archive:
    settings: Settings
    catalog: Catalog
    profile: CountyProfile
    evidence: dict[str, ec.CampaignEvidence]
    store: Store
    paths: es.EvidencePaths
    _slots: list[ec.Slot] = field(default_factory=list, repr=False)

    @classmethod
    def load(
        cls, settings: Settings | None = None, county: str | None = None, store: Store | None = None
    ) -> Archive:
        settings = settings or Settings.from_env()
        catalog = load_catalog(settings.standards_dir)
        profiles = load_profiles(settings.profiles_dir, catalog)
        profile = next((p for p in profiles if county is None or p.code == county), None)
        if profile is None:
            raise es.ArchiveError("no_county", f"县情配置中没有县 {county}", f"no county profile {county}")
        evidence = ec.load_default(settings, catalog, profile)
        st = store or es.open_store(settings)
        es.ensure_schema(st)
        return cls(settings, catalog, profile, evidence, st, es.EvidencePaths.from_settings(settings))

    @property
    def county(self) -> str:
        return self.profile.code

    @cached_property
    def slots(self) -> list[ec.Slot]:
        return ec.slots(self.evidence, self.catalog, self.profile)

    def slots_of(self, campaign: str | None = None) -> list[ec.Slot]:
        return [s for s in self.slots if campaign is None or s.campaign_code == campaign]

    def slot(self, campaign: str, clause: str, item: str, period: str) -> ec.Slot | None:
        for s in self.slots:
            if s.key == (campaign, clause, item, period):
                return s
        return None

    def clauses(self, campaign: str) -> list[ec.Clause]:
        prog = self.profile.programme(campaign)
        return ec.clauses_for(self.evidence[campaign], self.catalog, prog.acceptance)

    def latest(self, campaign: str | None = None) -> list[dict]:
        return es.latest_versions(self.store, self.county, campaign)

    def slot_rows(self, campaign: str | None = None, as_of: dt.date | None = None) -> list[dict]:
        return readiness.archive_slot_rows(self.slots_of(campaign), self.latest(campaign), as_of)

    def clause_rows(self, campaign: str | None = None, as_of: dt.date | None = None) -> list[dict]:
        return readiness.archive_clause_rows(self.slot_rows(campaign, as_of))

    def campaign_rows(
        self,
        campaign: str | None = None,
        as_of: dt.date | None = None,
        indicator_rows: list[dict] | None = None,
    ) -> list[dict]:
        return readiness.archive_campaign_rows(self.clause_rows(campaign, as_of), indicator_rows, as_of)

    def unit_name(self, short: str, lang: str = "zh") -> str:
        for u in self.profile.org_units:
            if u.short_code == short:
                return u.name_en if lang == "en" else u.name_zh
        return short
