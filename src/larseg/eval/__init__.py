"""Evaluation: the paper's metrics (ICPF mean and 90% quantile, shower and track error rates)."""

from larseg.eval.metrics import (
    ImageMetrics,
    MetricAccumulator,
    SampleMetrics,
    image_metrics,
    sample_metrics,
    summarize,
)

__all__ = ["ImageMetrics", "MetricAccumulator", "SampleMetrics", "image_metrics", "sample_metrics", "summarize"]
