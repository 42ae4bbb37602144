//! The metric-context editors: conversions between metric types, scaling, extracting sums
//! and counts, aggregating points.

use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, ExponentialHistogramDataPoint, Gauge, HistogramDataPoint, Metric, NumberDataPoint, Sum, SummaryDataPoint,
};

use super::{err, Args};
use crate::eval::item::Item;
use crate::eval::value::Value;
use crate::eval::EvalError;

/// `extract_sum_metric` / `extract_count_metric`: a new sum metric from the sums or counts of
/// a histogram, exponential histogram or summary, appended to the scope when it has points.
pub(super) fn extract_metric(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    let count = a.name == "extract_count_metric";
    let monotonic = match a.value(0, item)? {
        Value::Bool(b) => b,
        other => return err(format!("{}: monotonic must be a bool, got a {}", a.name, other.type_name())),
    };
    let suffix = a.lit_str(1).unwrap_or(if count { ".count" } else { ".sum" });
    let m = item.metric.as_deref().ok_or_else(|| EvalError(format!("{}: no metric in this context", a.name)))?;
    let point = |attributes: &[KeyValue], start: u64, time: u64, value: number_data_point::Value| NumberDataPoint {
        attributes: attributes.to_vec(),
        start_time_unix_nano: start,
        time_unix_nano: time,
        value: Some(value),
        ..Default::default()
    };
    // The count, or the sum when there is one (histograms may leave it out), of each point.
    macro_rules! extracted {
        ($points:expr, $sum:expr) => {
            $points
                .iter()
                .filter_map(|p| {
                    let v = if count {
                        number_data_point::Value::AsInt(i64::try_from(p.count).unwrap_or(i64::MAX))
                    } else {
                        number_data_point::Value::AsDouble($sum(p)?)
                    };
                    Some(point(&p.attributes, p.start_time_unix_nano, p.time_unix_nano, v))
                })
                .collect()
        };
    }
    let (temporality, points): (i32, Vec<NumberDataPoint>) = match &m.data {
        Some(Data::Histogram(h)) => (h.aggregation_temporality, extracted!(h.data_points, |p: &HistogramDataPoint| p.sum)),
        Some(Data::ExponentialHistogram(h)) => (h.aggregation_temporality, extracted!(h.data_points, |p: &ExponentialHistogramDataPoint| p.sum)),
        // Summaries are cumulative.
        Some(Data::Summary(s)) => (2, extracted!(s.data_points, |p: &SummaryDataPoint| Some(p.sum))),
        _ => return err(format!("{} needs a histogram, exponential histogram or summary metric; {:?} is not one", a.name, m.name)),
    };
    if points.is_empty() {
        return Ok(());
    }
    let new = Metric {
        name: format!("{}{suffix}", m.name),
        description: m.description.clone(),
        unit: if count { "1".into() } else { m.unit.clone() },
        data: Some(Data::Sum(Sum { data_points: points, aggregation_temporality: temporality, is_monotonic: monotonic })),
        ..Default::default()
    };
    item.added_metrics.push(new);
    Ok(())
}

/// `aggregate_on_attributes`: points of a gauge or sum reduced to the listed attributes, then
/// merged per distinct attribute set (the first point of a set keeps its timestamps).
pub(super) fn aggregate(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    use number_data_point::Value as N;
    let function = a.lit_str(0).unwrap_or("sum");
    let keep = a.lit_strs(1);
    let m = item.metric.as_deref_mut().ok_or_else(|| EvalError("aggregate_on_attributes: no metric in this context".into()))?;
    let points = match &mut m.data {
        Some(Data::Gauge(g)) => &mut g.data_points,
        Some(Data::Sum(s)) => &mut s.data_points,
        _ => return err(format!("aggregate_on_attributes needs a gauge or sum metric; {:?} is not one", m.name)),
    };
    // Groups in first-seen order, keyed by their sorted attributes.
    let mut groups: Vec<(String, NumberDataPoint, Vec<N>)> = Vec::new();
    for mut p in std::mem::take(points) {
        p.attributes.retain(|kv| keep.contains(&kv.key.as_str()));
        let mut sorted: Vec<(String, Value)> = Value::from_kvs(&p.attributes).into_map();
        sorted.sort_by(|x, y| x.0.cmp(&y.0));
        let key = Value::Map(sorted).text();
        let v = p.value.take().unwrap_or(N::AsInt(0));
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, _, values)) => values.push(v),
            None => groups.push((key, p, vec![v])),
        }
    }
    for (_, mut p, values) in groups {
        p.value = Some(reduce(function, &values));
        points.push(p);
    }
    Ok(())
}

/// One value from several, integers staying integers unless a double is among them.
fn reduce(function: &str, values: &[number_data_point::Value]) -> number_data_point::Value {
    use number_data_point::Value as N;
    let n = values.len().max(1);
    if function == "count" {
        return N::AsInt(i64::try_from(values.len()).unwrap_or(i64::MAX));
    }
    let ints: Option<Vec<i64>> = values.iter().map(|v| if let N::AsInt(i) = v { Some(*i) } else { None }).collect();
    if let Some(mut ints) = ints {
        ints.sort_unstable();
        let sum = ints.iter().fold(0_i64, |s, x| s.saturating_add(*x));
        return N::AsInt(match function {
            "avg" => sum / i64::try_from(n).unwrap_or(1),
            "min" => ints.first().copied().unwrap_or(0),
            "max" => ints.last().copied().unwrap_or(0),
            "median" if n.is_multiple_of(2) && n >= 2 => ((i128::from(ints[n / 2 - 1]) + i128::from(ints[n / 2])) / 2) as i64,
            "median" => ints.get(n / 2).copied().unwrap_or(0),
            _ => sum,
        });
    }
    let mut ds: Vec<f64> = values
        .iter()
        .map(|v| match v {
            N::AsInt(i) => *i as f64,
            N::AsDouble(d) => *d,
        })
        .collect();
    ds.sort_by(f64::total_cmp);
    let sum: f64 = ds.iter().sum();
    N::AsDouble(match function {
        "avg" => sum / n as f64,
        "min" => ds.first().copied().unwrap_or(0.0),
        "max" => ds.last().copied().unwrap_or(0.0),
        "median" if n.is_multiple_of(2) && n >= 2 => (ds[n / 2 - 1] + ds[n / 2]) / 2.0,
        "median" => ds.get(n / 2).copied().unwrap_or(0.0),
        _ => sum,
    })
}

pub(super) fn metric_editor(a: &Args, item: &mut Item) -> Result<(), EvalError> {
    let factor = if a.name == "scale_metric" { a.double(0, item)? } else { 1.0 };
    let unit = if a.name == "scale_metric" && a.arg(1).is_some() { Some(a.string(1, item)?) } else { None };
    let monotonic = if a.name == "convert_gauge_to_sum" {
        match a.value(1, item)? {
            Value::Bool(b) => b,
            other => return err(format!("convert_gauge_to_sum: is_monotonic must be a bool, got a {}", other.type_name())),
        }
    } else {
        false
    };
    let temporality = if a.lit_str(0) == Some("delta") { 1 } else { 2 };
    let m = item.metric.as_deref_mut().ok_or_else(|| EvalError(format!("{}: no metric in this context", a.name)))?;
    match a.name {
        "convert_sum_to_gauge" => {
            if let Some(Data::Sum(s)) = &mut m.data {
                m.data = Some(Data::Gauge(Gauge { data_points: std::mem::take(&mut s.data_points) }));
            }
        }
        "convert_gauge_to_sum" => {
            if let Some(Data::Gauge(g)) = &mut m.data {
                m.data =
                    Some(Data::Sum(Sum { data_points: std::mem::take(&mut g.data_points), aggregation_temporality: temporality, is_monotonic: monotonic }));
            }
        }
        _ => {
            let scale_number = |v: &mut Option<number_data_point::Value>| match v {
                Some(number_data_point::Value::AsDouble(d)) => *d *= factor,
                Some(number_data_point::Value::AsInt(i)) => *i = (*i as f64 * factor) as i64,
                None => {}
            };
            match &mut m.data {
                Some(Data::Gauge(g)) => g.data_points.iter_mut().for_each(|p| scale_number(&mut p.value)),
                Some(Data::Sum(s)) => s.data_points.iter_mut().for_each(|p| scale_number(&mut p.value)),
                Some(Data::Histogram(h)) => h.data_points.iter_mut().for_each(|p| {
                    p.sum = p.sum.map(|s| s * factor);
                    p.explicit_bounds.iter_mut().for_each(|b| *b *= factor);
                }),
                Some(Data::Summary(s)) => s.data_points.iter_mut().for_each(|p| {
                    p.sum *= factor;
                    p.quantile_values.iter_mut().for_each(|q| q.value *= factor);
                }),
                Some(Data::ExponentialHistogram(_)) => return err("scale_metric: exponential histograms cannot be scaled"),
                None => {}
            }
            if let Some(u) = unit {
                m.unit = u;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reductions_keep_integers_integral() {
        use number_data_point::Value as N;
        let ints = [N::AsInt(5), N::AsInt(1), N::AsInt(4), N::AsInt(2)];
        let got: Vec<_> = ["sum", "avg", "min", "max", "median", "count"].iter().map(|f| reduce(f, &ints)).collect();
        assert_eq!(got, [N::AsInt(12), N::AsInt(3), N::AsInt(1), N::AsInt(5), N::AsInt(3), N::AsInt(4)]);
        let mixed = [N::AsInt(1), N::AsDouble(2.5), N::AsInt(4)];
        assert_eq!((reduce("avg", &mixed), reduce("median", &mixed)), (N::AsDouble(2.5), N::AsDouble(2.5)));
        assert_eq!(reduce("median", &[N::AsInt(i64::MAX), N::AsInt(i64::MAX)]), N::AsInt(i64::MAX));
    }
}
