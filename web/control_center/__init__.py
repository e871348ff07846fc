"""The Control Center page's Python: loaded by web/main.py into Pyodide next to our wheel.

``messages``, ``chart``, ``fmt`` and ``prefs`` are plain Python (unit-tested on CPython);
``dom``, ``views``, ``form``, ``console``, ``storage``, ``app`` and ``startup`` talk to the
browser through Pyodide's ``js`` module.
"""
