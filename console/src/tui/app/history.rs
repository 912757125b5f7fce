//! The alarm detail view's history: asked for when the view shows an alarm, filled by
//! [`Action::AlarmHistory`](super::Action::AlarmHistory).

use crate::model::{AlarmHistory, CollectorError};

use super::{
    AlarmHistoryView, App, Effect, HistoryState, Overlay, Panel, selected, visible_alarms,
};

/// The answer to [`Effect::FetchAlarmHistory`], shown if its alarm still is.
pub(super) fn on_alarm_history(
    app: &mut App,
    alarm: String,
    region: String,
    result: Result<AlarmHistory, CollectorError>,
) -> Vec<Effect> {
    // A late answer for an alarm no longer shown is dropped.
    if let Some(view) = app
        .alarm_history
        .as_mut()
        .filter(|v| v.alarm == alarm && v.region == region)
    {
        view.state = match result {
            Ok(h) => HistoryState::Ready(h),
            Err(e) => HistoryState::Error(e),
        };
    }
    Vec::new()
}

/// When the alarm detail view shows an alarm whose history is not loaded (or loading) yet:
/// marks it loading and asks for it. Anything else: forgets the history.
pub(super) fn follow_alarm_history(app: &mut App) -> Vec<Effect> {
    let shown = if app.overlay == Some(Overlay::Detail) && app.focus == Panel::Alarms {
        let sel = selected(app, Panel::Alarms);
        visible_alarms(app)
            .get(sel)
            .map(|a| (a.name.clone(), a.region.clone()))
    } else {
        None
    };
    let Some((alarm, region)) = shown else {
        app.alarm_history = None;
        return Vec::new();
    };
    if app
        .alarm_history
        .as_ref()
        .is_some_and(|v| v.alarm == alarm && v.region == region)
    {
        return Vec::new();
    }
    app.alarm_history = Some(AlarmHistoryView {
        alarm: alarm.clone(),
        region: region.clone(),
        state: HistoryState::Loading,
    });
    vec![Effect::FetchAlarmHistory { alarm, region }]
}
