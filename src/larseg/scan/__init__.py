"""``larseg scan``: label pixels by hand in the browser (the paper's hand scans, Sec. V C, VII).

:mod:`larseg.scan.session` is the scanning logic (events, overlays, tools, undo, the journaled
labels of :mod:`larseg.data.handlabels`); :mod:`larseg.scan.server` serves it as a JSON API and a
canvas page (``static/``) under uvicorn. Needs the ``scan`` extra (FastAPI, uvicorn).
"""
