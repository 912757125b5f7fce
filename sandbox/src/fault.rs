//! The faults `--fault NAME` starts the sandbox with (docs/contracts.md section 6).

/// The faults `--fault NAME` can start the sandbox with (docs/contracts.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Buffering,
    LibrechatDown,
    Alarm,
    ColdStartStorm,
    RedisDown,
    DeployInProgress,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::Buffering,
        Fault::LibrechatDown,
        Fault::Alarm,
        Fault::ColdStartStorm,
        Fault::RedisDown,
        Fault::DeployInProgress,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Buffering => "buffering",
            Fault::LibrechatDown => "librechat-down",
            Fault::Alarm => "alarm",
            Fault::ColdStartStorm => "cold-start-storm",
            Fault::RedisDown => "redis-down",
            Fault::DeployInProgress => "deploy-in-progress",
        }
    }

    /// The `probe --json` finding code this fault must produce.
    pub fn finding_code(self) -> &'static str {
        match self {
            Fault::Buffering => "sse_buffered",
            Fault::LibrechatDown => "health_failed",
            Fault::Alarm => "alarm_firing",
            Fault::ColdStartStorm => "cold_start_p95_high",
            Fault::RedisDown => "redis_unreachable",
            Fault::DeployInProgress => "deploy_in_progress",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Fault::Buffering => {
                "the CloudFront/API Gateway stand-in collects each whole response before answering"
            }
            Fault::LibrechatDown => {
                "the LibreChat stand-in answers /health and /readyz with 503, so the shim never gets ready"
            }
            Fault::Alarm => "the alarm `lambda-errors` is in ALARM",
            Fault::ColdStartStorm => {
                "the function's log holds mostly cold starts with Init Duration 7-14 s"
            }
            Fault::RedisDown => "the shim's REDIS_URI points at a port where nothing listens",
            Fault::DeployInProgress => {
                "the CloudFront distribution stays InProgress (moto's state manager)"
            }
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == s)
    }
}

pub(crate) fn fault_help() -> String {
    let mut s = String::from("faults (opsconsole-sandbox --fault NAME):\n");
    for f in Fault::ALL {
        s.push_str(&format!(
            "  {:<20} {} -> finding `{}`\n",
            f.name(),
            f.describe(),
            f.finding_code()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_round_trip_and_map_to_contract_codes() {
        for f in Fault::ALL {
            assert_eq!(Fault::parse(f.name()), Some(f));
        }
        assert_eq!(Fault::parse("nope"), None);
        let codes: Vec<&str> = Fault::ALL.iter().map(|f| f.finding_code()).collect();
        assert_eq!(
            codes,
            [
                "sse_buffered",
                "health_failed",
                "alarm_firing",
                "cold_start_p95_high",
                "redis_unreachable",
                "deploy_in_progress"
            ]
        );
        assert!(fault_help().contains("cold-start-storm"));
    }
}
