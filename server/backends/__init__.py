"""Store backends behind the one store interface (``server.store.Store``).

``store.open_store`` picks one from the store URL:

- ``memory:`` — the repository's Turtle parsed into an embedded in-memory Oxigraph store at start
  (``server.store.OxigraphStore``);
- ``oxigraph:PATH`` — an embedded on-disk Oxigraph store built once by ``romagraph load`` and
  reopened read-only in milliseconds (``disk.py``);
- ``http(s)://…`` — a remote SPARQL 1.1 endpoint (Oxigraph server, Fuseki, Virtuoso…) queried over
  the SPARQL protocol (``remote.py``).
"""
