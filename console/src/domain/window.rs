//! The time window every collector looks back over (metrics, the REPORT scan, the alarms'
//! series, logs): one value in the App state, widened and narrowed with keys, shown in the
//! header, and `probe --window`.

use std::fmt;
use std::str::FromStr;

/// The windows an on-call engineer steps through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Window {
    M15,
    #[default]
    H1,
    H3,
    H12,
    H24,
    D7,
}

impl Window {
    pub const ALL: [Window; 6] = [
        Window::M15,
        Window::H1,
        Window::H3,
        Window::H12,
        Window::H24,
        Window::D7,
    ];

    pub fn minutes(self) -> u32 {
        match self {
            Window::M15 => 15,
            Window::H1 => 60,
            Window::H3 => 180,
            Window::H12 => 720,
            Window::H24 => 1440,
            Window::D7 => 10080,
        }
    }

    pub fn secs(self) -> u64 {
        u64::from(self.minutes()) * 60
    }

    /// `15m`, `1h`, `3h`, `12h`, `24h`, `7d`.
    pub fn label(self) -> &'static str {
        match self {
            Window::M15 => "15m",
            Window::H1 => "1h",
            Window::H3 => "3h",
            Window::H12 => "12h",
            Window::H24 => "24h",
            Window::D7 => "7d",
        }
    }

    fn index(self) -> usize {
        Window::ALL.iter().position(|w| *w == self).unwrap_or(1)
    }

    /// The next wider window (the widest stays).
    pub fn wider(self) -> Window {
        Window::ALL[(self.index() + 1).min(Window::ALL.len() - 1)]
    }

    /// The next narrower window (the narrowest stays).
    pub fn narrower(self) -> Window {
        Window::ALL[self.index().saturating_sub(1)]
    }

    /// The smallest window that covers `minutes` (the widest beyond 7 d): maps the config's
    /// `lambda_window_minutes` onto the steps.
    pub fn covering(minutes: u32) -> Window {
        Window::ALL
            .into_iter()
            .find(|w| w.minutes() >= minutes)
            .unwrap_or(Window::D7)
    }

    /// A metric period (seconds, a multiple of 60) giving about `points` points over the
    /// window, at least one minute.
    pub fn period_for_points(self, points: u32) -> i32 {
        let per = (self.secs() / u64::from(points.max(1))).max(60);
        let per = per.div_ceil(60) * 60;
        i32::try_from(per).unwrap_or(i32::MAX)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A window that is not one of the steps.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown window `{0}`: use one of 15m, 1h, 3h, 12h, 24h, 7d")]
pub struct WindowError(pub String);

impl FromStr for Window {
    type Err = WindowError;

    /// `15m`, `1h`, `3h`, `12h`, `24h`, `7d`; also `60m`, `180m`, `1d`, `168h` for the same
    /// steps (case-insensitive). Anything else is an error naming the choices.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let minutes = t
            .strip_suffix('m')
            .and_then(|n| n.parse::<u32>().ok())
            .or_else(|| {
                t.strip_suffix('h')
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|h| h * 60)
            })
            .or_else(|| {
                t.strip_suffix('d')
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|d| d * 1440)
            });
        minutes
            .and_then(|m| Window::ALL.into_iter().find(|w| w.minutes() == m))
            .ok_or_else(|| WindowError(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_widen_and_narrow_and_stop_at_the_ends() {
        assert_eq!(Window::H1.wider(), Window::H3);
        assert_eq!(Window::H1.narrower(), Window::M15);
        assert_eq!(Window::M15.narrower(), Window::M15);
        assert_eq!(Window::D7.wider(), Window::D7);
        let labels: Vec<&str> = Window::ALL.iter().map(|w| w.label()).collect();
        assert_eq!(labels, ["15m", "1h", "3h", "12h", "24h", "7d"]);
    }

    #[test]
    fn parses_the_steps_and_rejects_others() {
        for w in Window::ALL {
            assert_eq!(w.label().parse::<Window>(), Ok(w));
        }
        assert_eq!("60m".parse::<Window>(), Ok(Window::H1));
        assert_eq!("1d".parse::<Window>(), Ok(Window::H24));
        assert_eq!(" 3H ".parse::<Window>(), Ok(Window::H3));
        let e = "2h".parse::<Window>().expect_err("not a step");
        assert!(e.to_string().contains("15m, 1h, 3h, 12h, 24h, 7d"), "{e}");
        assert!("".parse::<Window>().is_err());
        assert!("h".parse::<Window>().is_err());
    }

    #[test]
    fn covering_and_periods() {
        assert_eq!(Window::covering(60), Window::H1);
        assert_eq!(Window::covering(61), Window::H3);
        assert_eq!(Window::covering(0), Window::M15);
        assert_eq!(Window::covering(100_000), Window::D7);
        assert_eq!(Window::M15.period_for_points(60), 60);
        assert_eq!(Window::H3.period_for_points(36), 300);
        assert_eq!(Window::D7.period_for_points(84), 7200);
        assert_eq!(Window::H1.period_for_points(0) % 60, 0);
    }
}
