"""Phase three of MLR-Copilot: run prototype notebooks and compare their metrics.

Modules are imported directly (``mlr.execution.runner``, ``.prototypes``, ``.metrics``) so that
importing this package stays cheap: papermill is only loaded where a notebook is inspected or run.
"""
