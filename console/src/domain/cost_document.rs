//! The cost document (issue 29): what `opsconsole cost --json` prints, and what the probe's
//! `cost` section, the TUI's cost line and view and the support bundle's `cost.json` carry;
//! with its one-line headline. Pure.

use serde::Serialize;

use super::billed::Billed;
use super::cost::{Basis, Deployment, Estimate, Load};
use super::cost_inputs::{Usage, WhatIf};
use super::pricelist::PriceRefresh;

/// The whole answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostDocument {
    pub env: String,
    pub generated_at: String,
    pub prices_as_of: String,
    pub price_sources: Vec<String>,
    pub deployment: Deployment,
    /// The configuration at the stated load.
    pub estimate: Estimate,
    pub stated_load: Load,
    /// The window's usage projected to a month (absent with `--no-usage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<Actual>,
    pub what_ifs: Vec<WhatIf>,
    /// What could not be read (the figures then rest on stated assumptions).
    pub errors: Vec<String>,
    /// `opsconsole cost --refresh-prices`: the prices taken from the AWS Price List API for
    /// this run and those kept from the table, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_refresh: Option<PriceRefresh>,
    /// `opsconsole cost` (not the probe, TUI or bundle: each request costs 0.01 USD): the billed
    /// cost from Cost Explorer by the deployment's tags, or why there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed: Option<Billed>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Actual {
    pub window: String,
    pub usage: Usage,
    pub load: Load,
    pub estimate: Estimate,
    pub notes: Vec<String>,
}

/// The figures of the one-line summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// The estimate at the stated load, and that load's basis (assumed unless flags say more).
    pub estimate_usd: f64,
    pub estimate_basis: Basis,
    /// The window's usage projected to a month, the window, and whether its request count was
    /// measured (assumed: no datapoints, the stated load stands).
    pub actual: Option<(f64, String, Basis)>,
    /// Reads that failed (their figures are assumed).
    pub not_read: usize,
    /// Parts without a price (not in the totals).
    pub unpriced: usize,
}

impl CostDocument {
    pub fn headline(&self) -> Headline {
        Headline {
            estimate_usd: self.estimate.total_usd,
            estimate_basis: self.stated_load.api_requests_per_day.basis,
            actual: self.actual.as_ref().map(|a| {
                (
                    a.estimate.total_usd,
                    a.window.clone(),
                    a.load.api_requests_per_day.basis,
                )
            }),
            not_read: self.errors.len(),
            unpriced: self.estimate.unpriced.len(),
        }
    }

    /// One line: `estimated 58.20 USD/month (assumed load) · actual 41.10 USD/month (measured,
    /// last 24h)`, then what was not read or priced.
    pub fn summary(&self) -> String {
        let h = self.headline();
        let mut s = format!(
            "estimated {:.2} USD/month ({} load)",
            h.estimate_usd,
            h.estimate_basis.label()
        );
        if let Some((usd, window, basis)) = &h.actual {
            s.push_str(&format!(
                " · actual {usd:.2} USD/month ({}, last {window})",
                actual_label(*basis)
            ));
        }
        if h.not_read > 0 {
            s.push_str(&format!(" · {} not read (assumed)", h.not_read));
        }
        if h.unpriced > 0 {
            s.push_str(&format!(" · {} unpriced", h.unpriced));
        }
        s
    }
}

/// `measured`, or why the actual figure is not: no usage datapoints in the window.
pub fn actual_label(b: Basis) -> &'static str {
    match b {
        Basis::Measured => "measured",
        _ => "assumed, no usage datapoints",
    }
}
