"""Evaluation: the paper's metrics (ICPF mean and 90% quantile, shower and track error rates),
``larseg evaluate`` (Table I, Figs. 6 and 8) and the studies of Sec. VI-VII (docs/evaluation.md).

    from larseg.eval import evaluate
    result = evaluate("runs/uresnet-cpu", ["data/1e1p.h5", "data/nue-cc.h5"], "eval-out")

The studies live in their own modules: :mod:`larseg.eval.kinematics` (Fig. 7),
:mod:`larseg.eval.scaling` (Figs. 10/17), :mod:`larseg.eval.peaks` (Fig. 9),
:mod:`larseg.eval.masking` (Figs. 12-15), :mod:`larseg.eval.datasim` (Tables II/III,
Figs. 8/16), :mod:`larseg.eval.report` (HTML page) and :mod:`larseg.eval.display` (Fig. 18).
"""

from larseg.eval.evaluate import EvaluationResult, SampleResult, evaluate, evaluate_file, load_sample_results
from larseg.model.metrics import (
    ImageMetrics,
    MetricAccumulator,
    SampleMetrics,
    image_metrics,
    sample_metrics,
    summarize,
)

__all__ = [
    "EvaluationResult",
    "ImageMetrics",
    "MetricAccumulator",
    "SampleMetrics",
    "SampleResult",
    "evaluate",
    "evaluate_file",
    "image_metrics",
    "load_sample_results",
    "sample_metrics",
    "summarize",
]
