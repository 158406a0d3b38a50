"""The experiment loop's pure logic: seed statistics, search space, Optuna study, evaluation guard, policy.

See README.md in this folder for what may be imported here. The modules are imported by name
(``from mlr.experiments.stats import verdict``) so that importing the package stays cheap
(optuna and scipy are loaded only by the modules that use them).
"""
