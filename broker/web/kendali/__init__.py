"""Ruang Kendali: the staff side of the web tier (`antrian kendali`), its own Flask app and process.

Theory of operation
-------------------
- Who: staff accounts of broker.access.staff (argon2 hashes in the data folder's
  staff.sqlite3). A login makes a new random server-side session id (the browser's cookie,
  signed, holds only that id, the language and Flask-WTF's CSRF token), so a session planted
  before the login is worth nothing, a logout ends it on the server, and a password change or
  a removed account ends every session of that user.
- What they see: the engine's retained state, read through broker.mqtt.client.StateMirror,
  turned into one frozen view per page (broker.web.kendali.views) and rendered by a template.
  A koordinator's view holds only its own agency; nothing else is ever sent to its browser.
- What they do: supervisor actions (broker.web.kendali.actions) are engine commands over MQTT
  through broker.mqtt.client.EngineClient, with a request id from the form, so the engine
  applies the very rules and refusals a counter panel gets. The role check is made here, on
  the server, from the site config (never from the form): a koordinator is refused another
  agency's counter or service, a pimpinan every action. Each change, and each refusal, goes
  into the audit log (who, when, what) that admins read on /audit.
- How it is guarded: every POST carries a CSRF token (Flask-WTF's CSRFProtect), cookies are
  HttpOnly and SameSite=Strict (Secure behind TLS), wrong passwords lock the user and the
  client address, Flask-Limiter limits every client, and the security headers, limits and
  token-free logs are the phone page's (broker.web.app). No script, font or style comes from
  another site.
"""
