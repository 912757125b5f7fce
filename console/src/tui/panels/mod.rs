//! The six panels of the grid, one file each: what it draws, the rows it lists (after its
//! filter), and the detail view of a row. [`Panel::ALL`] is the one list of them: the grid, Tab
//! order, the number keys, the per-panel view state and the snapshots all follow it.
//!
//! Adding a panel: a file here implementing [`PanelView`], and one line in `panels!` below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::app::App;
use super::theme::Theme;

pub(crate) mod activity;
pub(crate) mod alarms;
pub(crate) mod deployment;
pub(crate) mod lambda;
pub(crate) mod redis;
pub(crate) mod sse;

/// What a panel provides.
pub(crate) trait PanelView: Sync {
    /// The title in its border (after its number).
    fn title(&self) -> &'static str;
    /// A timeline whose selection follows the newest row until the operator moves up.
    fn follows_newest(&self) -> bool {
        false
    }
    /// How many rows it lists now (after its filter): what j/k move over.
    fn item_count(&self, app: &App) -> usize;
    /// Draws the panel (border included) into `area`.
    fn render(&self, f: &mut Frame, area: Rect, app: &App, theme: Theme);
    /// The detail view of row `selected` (Enter).
    fn detail(&self, app: &App, selected: usize, theme: Theme) -> Detail;
}

/// The content of a detail view: its title (the panel's when None) and its lines.
#[derive(Debug, Default)]
pub(crate) struct Detail {
    pub title: Option<String>,
    pub lines: Vec<Line<'static>>,
}

/// Whether `text` passes a panel's filter: empty, or contained case-insensitively.
pub(crate) fn matches(filter: &str, text: &str) -> bool {
    filter.is_empty() || text.to_lowercase().contains(&filter.to_lowercase())
}

/// Declares [`Panel`] (one variant per entry, in screen order), [`Panel::ALL`] and each
/// variant's [`PanelView`].
macro_rules! panels {
    ($($(#[doc = $doc:literal])* $variant:ident => $view:path),+ $(,)?) => {
        /// A panel of the grid.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Panel {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Panel {
            /// Every panel, in screen order (left to right, top to bottom).
            pub const ALL: [Panel; [$(stringify!($variant)),+].len()] = [$(Panel::$variant),+];

            pub(crate) fn view(self) -> &'static dyn PanelView {
                match self {
                    $(Panel::$variant => &$view,)+
                }
            }
        }
    };
}

panels! {
    /// Terraform outputs, CloudFront distribution and invalidations, health check.
    Deployment => deployment::Deployment,
    /// The alarms of the outputs, those needing attention first.
    Alarms => alarms::Alarms,
    /// The function, its metrics, and cold starts from REPORT lines.
    Lambda => lambda::Lambda,
    /// The replication group, its metrics, and the shim's in-VPC PING.
    Redis => redis::Redis,
    /// The SSE probe's verdict and timeline.
    Sse => sse::Sse,
    /// Actions: what runs, and what happened.
    Activity => activity::Activity,
}

impl Panel {
    /// The position in [`Panel::ALL`] (its number on screen is this plus one).
    pub fn index(self) -> usize {
        Panel::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        self.view().title()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_panel_is_listed_once_in_screen_order() {
        let titles: Vec<&str> = Panel::ALL.iter().map(|p| p.title()).collect();
        assert_eq!(
            titles,
            [
                "Deployment",
                "Alarms",
                "Lambda & cold starts",
                "Redis",
                "SSE probe",
                "Activity"
            ]
        );
        for (i, p) in Panel::ALL.iter().enumerate() {
            assert_eq!(p.index(), i);
        }
    }
}
