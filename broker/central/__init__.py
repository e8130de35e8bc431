"""The province's central store on PostgreSQL: every MPP's events and the roll-ups compared across them."""

from broker.central.queries import AgencyRow, Figures, LeagueRow, WeekRow, drill, league, site_ikm, trend
from broker.central.store import CentralError, CentralStore, Site, UnknownSite, parse_site_id

__all__ = ["AgencyRow", "CentralError", "CentralStore", "Figures", "LeagueRow", "Site", "UnknownSite", "WeekRow",
           "drill", "league", "parse_site_id", "site_ikm", "trend"]
