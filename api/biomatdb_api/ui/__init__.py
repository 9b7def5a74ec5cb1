"""The web UI for visitors: server-rendered pages (Jinja2) over the same app and core as
the API, with a little progressive JavaScript; every asset is served by the app itself."""
