//! Alarm summaries.

use serde::Serialize;

use crate::model::{AlarmState, AlarmsData};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub(crate) struct AlarmSummary {
    pub ok: usize,
    pub alarm: usize,
    pub insufficient_data: usize,
    pub missing: usize,
}

pub(crate) fn summarize(data: &AlarmsData) -> AlarmSummary {
    let mut s = AlarmSummary::default();
    for a in &data.alarms {
        match a.state {
            AlarmState::Ok => s.ok += 1,
            AlarmState::Alarm => s.alarm += 1,
            AlarmState::InsufficientData => s.insufficient_data += 1,
            AlarmState::Missing => s.missing += 1,
        }
    }
    s
}

/// Parses the API's state value (`OK`, `ALARM`, `INSUFFICIENT_DATA`).
pub(crate) fn parse_state(s: &str) -> AlarmState {
    match s.to_ascii_uppercase().as_str() {
        "OK" => AlarmState::Ok,
        "ALARM" => AlarmState::Alarm,
        _ => AlarmState::InsufficientData,
    }
}
