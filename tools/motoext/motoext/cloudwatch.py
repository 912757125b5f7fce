"""CloudWatch GetMetricData with percentile statistics (`p95`, `p99.9`, ...).

moto 5.2.5 computes only Sum, Average, Minimum, Maximum and SampleCount. For any other statistic
`Statistics.get_statistics_for_type` returns None; as soon as a period has data points, that None
goes into the answer's values and the serializer fails: HTTP 500 with an empty body, which SDKs
report as "error parsing XML: no root element". The console's charts (Lambda duration p95, API
Gateway latency p95) meet this on the sandbox as soon as the function has run.

Here:
- a percentile statistic `pNN` / `pNN.NN` is computed over the raw values of the period (each value
  of `Values`/`Counts` counted as often as its count; a `StatisticValues` set only when its minimum
  equals its maximum, because its values are then known), nearest rank: the ceil(NN/100 * n)-th
  smallest, as CloudWatch does for raw data;
- a period whose statistic still cannot be computed (another extended statistic such as `tm99`,
  or only statistic sets) has no data point in the answer instead of a null that breaks the
  response, as CloudWatch leaves out periods without a value.
"""

import math
import re

from moto.cloudwatch.models import CloudWatchBackend, MetricAggregatedDatum, MetricDatum, Statistics

PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100)$")

_original_stat = Statistics.get_statistics_for_type
_original_get_metric_data = CloudWatchBackend.get_metric_data


def percentile_of(stat: str) -> float | None:
    """The NN of `pNN` (0 < NN <= 100), or None for any other statistic."""
    m = PERCENTILE.match(stat)
    if not m:
        return None
    p = float(m.group(1))
    return p if 0.0 < p <= 100.0 else None


def raw_values(data) -> list[float]:
    """The period's values, each as often as it was put; statistic sets only when exact."""
    out: list[float] = []
    for d in data or []:
        if isinstance(d, MetricDatum):
            out.append(float(d.value))
        elif isinstance(d, MetricAggregatedDatum) and d.min == d.max:
            out.extend([float(d.min)] * int(d.sample_count))
    return out


def nearest_rank(values: list[float], p: float) -> float | None:
    if not values:
        return None
    v = sorted(values)
    rank = math.ceil(p / 100.0 * len(v))
    return v[min(max(rank, 1), len(v)) - 1]


def get_statistics_for_type(self: Statistics, stat: str):
    p = percentile_of(stat)
    if p is not None:
        return nearest_rank(raw_values(self.metric_data), p)
    return _original_stat(self, stat)


def get_metric_data(self: CloudWatchBackend, *args, **kwargs):
    results = _original_get_metric_data(self, *args, **kwargs)
    for r in results:
        values, stamps = r.get("values"), r.get("timestamps")
        if values is None or stamps is None or len(values) != len(stamps):
            continue
        keep = [i for i, v in enumerate(values) if v is not None]
        if len(keep) != len(values):
            r["values"] = [values[i] for i in keep]
            r["timestamps"] = [stamps[i] for i in keep]
    return results


def install() -> None:
    Statistics.get_statistics_for_type = get_statistics_for_type
    CloudWatchBackend.get_metric_data = get_metric_data
