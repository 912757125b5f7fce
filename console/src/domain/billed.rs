//! The billed cost from Cost Explorer (issue 29): `GetCostAndUsage` for the deployment's tags
//! (environments/dev's `default_tags`: `Project=librechat`, `Environment=<env>`), per service,
//! beside the usage-derived figures. Pure: the period asked for, and the answer summed; the
//! call is `crate::cost_billed`.
//!
//! Cost Explorer's data is updated at least once every 24 hours, so the last day may be
//! missing or incomplete; each request costs 0.01 USD; user tags filter only once they are
//! activated as cost allocation tags (Billing console).

use serde::Serialize;
use time::{Date, Duration};

/// What Cost Explorer charges per API request (USD).
pub const CE_REQUEST_USD: f64 = 0.01;

/// The metric asked for (what the bill shows before credits and discounts).
pub const METRIC: &str = "UnblendedCost";

/// The whole UTC days covering a window of `window_minutes` that ended `today`: from `today`
/// less ceil(window / 1 day) days (at least one) to `today`, end exclusive (Cost Explorer's
/// `TimePeriod`), so today's partial day is left out.
pub fn period(today: Date, window_minutes: u32) -> (Date, Date) {
    let days = i64::from(window_minutes.div_ceil(1440).max(1));
    (today - Duration::days(days), today)
}

/// One service's amount on one day of the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CeGroup {
    pub service: String,
    pub amount: String,
    pub unit: String,
}

/// One `ResultsByTime` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct CeDay {
    pub start: String,
    pub estimated: bool,
    pub groups: Vec<CeGroup>,
    /// `Total`'s amount and unit (answered when there are no groups).
    pub total: Option<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BilledStatus {
    /// Costs answered.
    Ok,
    /// Cost Explorer answered, with no cost for the tags.
    Empty,
    /// Cost Explorer did not answer (not enabled, no permission, no credentials...).
    Unavailable,
    /// Not asked (`--no-billed`).
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceCost {
    pub service: String,
    pub usd: f64,
}

/// The document's `billed` section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Billed {
    pub status: BilledStatus,
    /// `Cost Explorer GetCostAndUsage (UnblendedCost, DAILY, by SERVICE)`.
    pub source: String,
    /// The tag filter (all must match).
    pub tags: Vec<(String, String)>,
    /// First day, and the day after the last (exclusive), UTC.
    pub period_start: String,
    pub period_end: String,
    pub days: u32,
    /// Per service, largest first (unpriced units other than USD are left out and noted).
    pub by_service: Vec<ServiceCost>,
    pub total_usd: Option<f64>,
    /// The period's total projected to a month (730 hours).
    pub monthly_usd: Option<f64>,
    /// Whether Cost Explorer marked any day as estimated (not final).
    pub estimated: bool,
    /// Why there is no figure (status `empty`, `unavailable` or `skipped`).
    pub reason: Option<String>,
    /// The lag and the price of asking, always.
    pub notes: Vec<String>,
}

/// The notes every billed section carries.
pub fn standing_notes(requests: u32) -> Vec<String> {
    vec![
        "Cost Explorer lags: its data is updated at least once every 24 hours, so the last day \
         may be missing or incomplete"
            .to_string(),
        format!(
            "Cost Explorer charges {CE_REQUEST_USD:.2} USD per request: this run made {requests} \
             ({:.2} USD); --no-billed skips it",
            f64::from(requests) * CE_REQUEST_USD
        ),
    ]
}

fn base(tags: &[(String, String)], start: Date, end: Date) -> Billed {
    Billed {
        status: BilledStatus::Empty,
        source: format!("Cost Explorer GetCostAndUsage ({METRIC}, DAILY, by SERVICE)"),
        tags: tags.to_vec(),
        period_start: start.to_string(),
        period_end: end.to_string(),
        days: u32::try_from((end - start).whole_days()).unwrap_or(0),
        by_service: Vec::new(),
        total_usd: None,
        monthly_usd: None,
        estimated: false,
        reason: None,
        notes: Vec::new(),
    }
}

fn tag_text(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A section saying why there is no figure.
pub fn unavailable(
    status: BilledStatus,
    tags: &[(String, String)],
    start: Date,
    end: Date,
    reason: String,
    requests: u32,
) -> Billed {
    Billed {
        status,
        reason: Some(reason),
        notes: standing_notes(requests),
        ..base(tags, start, end)
    }
}

/// Sums the answer's days per service (USD only; another unit is noted, not added).
pub fn summarize(
    days: &[CeDay],
    tags: &[(String, String)],
    start: Date,
    end: Date,
    requests: u32,
) -> Billed {
    let mut b = base(tags, start, end);
    b.notes = standing_notes(requests);
    let mut per: Vec<ServiceCost> = Vec::new();
    let mut other_units: Vec<String> = Vec::new();
    let mut add = |service: &str, amount: &str, unit: &str, per: &mut Vec<ServiceCost>| {
        if !unit.eq_ignore_ascii_case("USD") {
            other_units.push(format!("{service}: {amount} {unit}"));
            return;
        }
        let Ok(usd) = amount.trim().parse::<f64>() else {
            other_units.push(format!("{service}: `{amount}` is not a number"));
            return;
        };
        match per.iter_mut().find(|s| s.service == service) {
            Some(s) => s.usd += usd,
            None => per.push(ServiceCost {
                service: service.to_string(),
                usd,
            }),
        }
    };
    for d in days {
        b.estimated |= d.estimated;
        if d.groups.is_empty()
            && let Some((amount, unit)) = &d.total
        {
            add("(all services)", amount, unit, &mut per);
        }
        for g in &d.groups {
            add(&g.service, &g.amount, &g.unit, &mut per);
        }
    }
    for u in other_units {
        b.notes.push(format!("left out (not USD): {u}"));
    }
    per.retain(|s| s.usd != 0.0);
    per.sort_by(|a, b| b.usd.total_cmp(&a.usd).then(a.service.cmp(&b.service)));
    if per.is_empty() {
        b.reason = Some(format!(
            "Cost Explorer has no cost for the tags {} from {start} to {end} (a new \
             deployment, or the tags are not activated as cost allocation tags in the Billing \
             console)",
            tag_text(tags)
        ));
        return b;
    }
    let total: f64 = per.iter().map(|s| s.usd).sum();
    b.status = BilledStatus::Ok;
    b.total_usd = Some(total);
    if b.days > 0 {
        b.monthly_usd = Some(total * (730.0 / 24.0) / f64::from(b.days));
    }
    b.by_service = per;
    b
}

/// The text report's section.
pub fn text(b: &Billed) -> String {
    let mut s = format!(
        "\nBILLED (Cost Explorer, tags {}, {} to {} UTC, end exclusive):\n",
        tag_text(&b.tags),
        b.period_start,
        b.period_end
    );
    match b.status {
        BilledStatus::Ok => {
            for c in &b.by_service {
                s.push_str(&format!("  {:<48} {:>10.2} USD\n", c.service, c.usd));
            }
            s.push_str(&format!(
                "  {:<48} {:>10.2} USD in {} day(s) = {:.2} USD/month{}\n",
                "total",
                b.total_usd.unwrap_or(0.0),
                b.days,
                b.monthly_usd.unwrap_or(0.0),
                if b.estimated { " (estimated)" } else { "" }
            ));
        }
        _ => s.push_str(&format!(
            "  not available: {}\n",
            b.reason.as_deref().unwrap_or("no reason given")
        )),
    }
    for n in &b.notes {
        s.push_str(&format!("  note: {n}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn tags() -> Vec<(String, String)> {
        vec![
            ("Project".into(), "librechat".into()),
            ("Environment".into(), "dev".into()),
        ]
    }

    fn g(service: &str, amount: &str) -> CeGroup {
        CeGroup {
            service: service.into(),
            amount: amount.into(),
            unit: "USD".into(),
        }
    }

    #[test]
    fn the_period_is_whole_days_before_today() {
        let today = date!(2026 - 12 - 07);
        assert_eq!(period(today, 60), (date!(2026 - 12 - 06), today));
        assert_eq!(period(today, 1440), (date!(2026 - 12 - 06), today));
        assert_eq!(period(today, 1441), (date!(2026 - 12 - 05), today));
        assert_eq!(period(today, 7 * 1440), (date!(2026 - 11 - 30), today));
    }

    #[test]
    fn days_sum_per_service_largest_first_and_project_to_a_month() {
        let days = vec![
            CeDay {
                start: "2026-12-05".into(),
                estimated: false,
                groups: vec![g("AWS Lambda", "1.25"), g("Amazon ElastiCache", "0.40")],
                total: None,
            },
            CeDay {
                start: "2026-12-06".into(),
                estimated: true,
                groups: vec![g("AWS Lambda", "0.75"), g("Amazon S3", "0")],
                total: None,
            },
        ];
        let b = summarize(
            &days,
            &tags(),
            date!(2026 - 12 - 05),
            date!(2026 - 12 - 07),
            1,
        );
        assert_eq!(b.status, BilledStatus::Ok);
        assert_eq!(b.days, 2);
        assert_eq!(
            b.by_service,
            vec![
                ServiceCost {
                    service: "AWS Lambda".into(),
                    usd: 2.0
                },
                ServiceCost {
                    service: "Amazon ElastiCache".into(),
                    usd: 0.40
                },
            ]
        );
        assert!((b.total_usd.unwrap() - 2.40).abs() < 1e-12);
        assert!((b.monthly_usd.unwrap() - 2.40 * 730.0 / 24.0 / 2.0).abs() < 1e-9);
        assert!(b.estimated);
        assert!(b.notes[0].contains("at least once every 24 hours"));
        assert!(b.notes[1].contains("0.01 USD per request"));
        let t = text(&b);
        assert!(t.contains("AWS Lambda") && t.contains("(estimated)"), "{t}");
    }

    #[test]
    fn no_cost_is_empty_with_a_reason_and_other_units_are_not_added() {
        let days = vec![CeDay {
            start: "2026-12-06".into(),
            estimated: false,
            groups: vec![CeGroup {
                service: "AWS Lambda".into(),
                amount: "3".into(),
                unit: "EUR".into(),
            }],
            total: None,
        }];
        let b = summarize(
            &days,
            &tags(),
            date!(2026 - 12 - 06),
            date!(2026 - 12 - 07),
            1,
        );
        assert_eq!(b.status, BilledStatus::Empty);
        assert_eq!(b.total_usd, None);
        let r = b.reason.clone().unwrap();
        assert!(
            r.contains("Project=librechat, Environment=dev") && r.contains("cost allocation tags"),
            "{r}"
        );
        assert!(
            b.notes.iter().any(|n| n.contains("AWS Lambda: 3 EUR")),
            "{:?}",
            b.notes
        );
        assert!(text(&b).contains("not available: Cost Explorer has no cost"));
        // A total without groups counts as all services.
        let days = vec![CeDay {
            start: "2026-12-06".into(),
            estimated: false,
            groups: vec![],
            total: Some(("0.5".into(), "USD".into())),
        }];
        let b = summarize(
            &days,
            &tags(),
            date!(2026 - 12 - 06),
            date!(2026 - 12 - 07),
            1,
        );
        assert_eq!(b.total_usd, Some(0.5));
    }
}
