"""The trainer dashboard: a Solara app (``app.py``), its matplotlib pictures (``views.py``) and lessons (``lessons.py``)."""
