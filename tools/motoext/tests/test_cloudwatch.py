"""GetMetricData with percentile statistics (the console's charts ask for p95 durations)."""

from datetime import datetime, timedelta, timezone

import pytest

from motoext.cloudwatch import nearest_rank, percentile_of

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
DIMS = [{"Name": "FunctionName", "Value": "api"}]


def query(qid, stat, name="Duration", period=60):
    return {"Id": qid, "ReturnData": True, "MetricStat": {
        "Metric": {"Namespace": "AWS/Lambda", "MetricName": name, "Dimensions": DIMS},
        "Period": period, "Stat": stat}}


def put(cw, when, values, counts=None, name="Duration"):
    datum = {"MetricName": name, "Dimensions": DIMS, "Timestamp": when, "Values": values, "Unit": "Milliseconds"}
    if counts:
        datum["Counts"] = counts
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[datum])


def get(cw, *queries):
    out = cw.get_metric_data(MetricDataQueries=list(queries), StartTime=NOW - timedelta(minutes=10),
                             EndTime=NOW + timedelta(minutes=1), ScanBy="TimestampAscending")
    return {r["Id"]: r for r in out["MetricDataResults"]}


def test_p95_over_points_is_answered_per_period(aws):
    cw = aws("cloudwatch")
    first = NOW - timedelta(minutes=5) + timedelta(seconds=10)
    put(cw, first, [float(v) for v in range(1, 101)])  # 1..100 ms: p95 = 95, p50 = 50
    put(cw, first + timedelta(minutes=2), [7.0, 300.0], counts=[19, 1])  # 20 points: p95 = 7
    got = get(cw, query("p95", "p95"), query("p50", "p50"), query("max", "Maximum"), query("p999", "p99.9"))
    assert got["p95"]["Values"] == [95.0, 7.0]
    assert got["p50"]["Values"] == [50.0, 7.0]
    assert got["p999"]["Values"] == [100.0, 300.0]
    # the other statistics of the same request are untouched
    assert got["max"]["Values"] == [100.0, 300.0]
    assert got["p95"]["Timestamps"] == got["max"]["Timestamps"]
    assert len(got["p95"]["Timestamps"]) == 2


def test_a_statistic_that_cannot_be_computed_leaves_out_its_points_not_the_answer(aws):
    cw = aws("cloudwatch")
    put(cw, NOW - timedelta(minutes=3), [10.0, 20.0])
    got = get(cw, query("tm", "tm99"), query("sum", "Sum"))
    assert got["tm"]["Values"] == []
    assert got["sum"]["Values"] == [30.0]


def test_statistic_sets_count_only_when_their_values_are_known(aws):
    cw = aws("cloudwatch")
    at = NOW - timedelta(minutes=4)
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Duration", "Dimensions": DIMS, "Timestamp": at,
         "StatisticValues": {"SampleCount": 4, "Sum": 20, "Minimum": 5, "Maximum": 5}}])
    cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "Duration", "Dimensions": DIMS, "Timestamp": at + timedelta(minutes=2),
         "StatisticValues": {"SampleCount": 2, "Sum": 10, "Minimum": 1, "Maximum": 9}}])
    got = get(cw, query("p90", "p90"), query("n", "SampleCount"))
    assert got["p90"]["Values"] == [5.0]
    assert got["n"]["Values"] == [4.0, 2.0]


def test_percentile_names_and_nearest_rank():
    assert percentile_of("p95") == 95.0
    assert percentile_of("p99.9") == 99.9
    assert percentile_of("p100") == 100.0
    for other in ("p0", "P95", "tm99", "Average", "p101", "p"):
        assert percentile_of(other) is None, other
    assert nearest_rank([3.0, 1.0, 2.0], 50) == 2.0
    assert nearest_rank([3.0, 1.0, 2.0], 1) == 1.0
    assert nearest_rank([], 95) is None
