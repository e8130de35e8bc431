"""The province's control room (`antrian central web`): the MPPs of a province side by side, from the central store.

Theory of operation
-------------------
- What it reads: the central store's roll-ups on PostgreSQL (broker.central: `league`, `trend`, `drill`,
  and broker.central.views `agency_trend`), never the events themselves; each waitress thread keeps its
  own connection. When the database is away (not started yet, restarting, unreachable) every page says
  so in words with a 503 and tries again at the next request: no traceback, no stale figures.
- Pages: `/` the league of MPPs over a period (default the last 13 weeks; `dari`/`sampai`; sorted by any
  column with `urut` and `arah`; `format=csv` is the very same cells), `/mpp/<site>` one MPP per week
  (table and a bar chart drawn on the server, broker.reports.render) and per agency, and
  `/mpp/<site>/instansi/<agency>` one agency of it per week.
- Who sees what: staff accounts of broker.access.staff in the central's own data folder. An account's
  scope is a Kemendagri region-code prefix kept in its `agency` field: admin and pimpinan accounts have
  none and see every MPP; a koordinator's "62" is every MPP of province 62, "62.01" the MPP of that
  regency only. A site outside the scope is a 404, the same answer as a site that does not exist (and
  the refusal goes into the audit log), so an account cannot even learn which other MPPs are there.
- How it is guarded: the control room's rules (broker.web.kendali.app): a fresh server-side session at
  login, argon2 passwords with lockouts, CSRF tokens on the only forms (log in, log out), SameSite=Strict
  HttpOnly cookies, per-client rate limits, the web tier's security headers and token-free logs, and its
  stylesheets (broker/web/static/web.css, broker/web/kendali/static/kendali.css), nothing from elsewhere.
"""
