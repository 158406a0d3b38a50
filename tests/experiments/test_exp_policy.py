"""The candidate-kind policy over small histories."""

from types import SimpleNamespace

from mlr.experiments.policy import Entry, choose_kind, decide

B = Entry("baseline", "baseline")


def kinds(history, **kw):
    kw.setdefault("model_available", True)
    return decide(history, **kw).kind


def test_code_first_with_a_model_else_parameters():
    assert kinds([B]) == "code"
    assert kinds([B], model_available=False) == "parameters"
    assert kinds([B], params_only=True) == "parameters"
    assert "no model" in decide([B], model_available=False).reason


def test_debug_a_failure_at_most_n_times():
    h = [B, Entry("code", "failed")]
    assert kinds(h) == "debug"
    h.append(Entry("debug", "failed"))
    assert kinds(h) == "debug"
    h.append(Entry("debug", "failed"))
    assert kinds(h) != "debug"  # two attempts spent on this failure
    assert kinds(h, debug_attempts=3) == "debug"
    # debug happens even with params_only or without a model (rules first), but not for a fixed failure
    assert kinds([B, Entry("parameters", "failed")], params_only=True, model_available=False) == "debug"
    assert kinds([B, Entry("code", "failed"), Entry("debug", "discarded")]) == "code"
    assert kinds([B, Entry("parameters", "failed")], debug_parameter_failures=False) == "code"
    # a failure that never ran (the model did not answer) is not debugged
    assert kinds([B, Entry("code", "failed", ran=False)]) == "code"


def test_shift_to_parameters_after_k_code_misses():
    h = [B, Entry("code", "discarded"), Entry("parameters", "kept"), Entry("code", "refused")]
    d = decide(h, model_available=True)
    assert d.kind == "parameters" and "2 code candidates" in d.reason
    assert kinds(h, code_misses=3) == "code"
    assert kinds(h, feedback_since_last_code=True) == "code"  # the researcher said something new
    # a kept code candidate resets the count; so does a kept debug fix of a code candidate
    assert kinds([B, Entry("code", "discarded"), Entry("code", "kept"), Entry("code", "rejected")]) == "code"
    fixed = [B, Entry("code", "discarded"), Entry("code", "failed"), Entry("debug", "kept")]
    assert kinds(fixed) == "code"
    # the embedded demo model: every code candidate fails and its debugs too -> parameters for good
    demo = [B, Entry("code", "failed"), Entry("debug", "failed"), Entry("debug", "failed"),
            Entry("code", "refused")]
    assert kinds(demo) == "parameters"
    assert kinds(demo + [Entry("parameters", "discarded")] * 5) == "parameters"


def test_awaiting_approval_means_parameters_meanwhile():
    h = [B, Entry("code", "awaiting_approval")]
    assert kinds(h) == "parameters"
    assert kinds(h + [Entry("parameters", "failed")]) == "debug"


def test_choose_kind_reads_a_loop_config_and_store_records():
    config = SimpleNamespace(params_only=False, debug_attempts=1)
    record = SimpleNamespace(kind="code", status="failed", run_ids=[4], metric_by_seed={})
    assert choose_kind([B, record], config, model_available=True) == "debug"
    no_run = SimpleNamespace(kind="code", status="failed", run_ids=[], metric_by_seed={})
    assert choose_kind([B, no_run], config, model_available=True) == "code"
    assert choose_kind([B, record, Entry("debug", "failed")], config, model_available=True) == "code"
