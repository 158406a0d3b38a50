"""The guided tour: the whole flow on a sample paper in one call (``run.py``), its script of steps and words
(``tour.json``), its state (``state.py``) and its reset (``reset.py``). No Streamlit here."""
