//! The database findings of the shim's in-VPC MongoDB `ping` (issue 25).

use opsconsole_wire::status::DatabaseCheck;

use super::{Finding, Severity};

/// A MongoDB `ping` round trip (connect and TLS included) over this is `database_slow`: inside
/// one region it takes a few ms.
pub const DATABASE_SLOW_MS: f64 = 500.0;

/// The database finding of the shim's in-VPC `ping`: `database_unreachable` (failing: LibreChat
/// cannot log anyone in or save a chat without it) naming `host:port`, the likely cause from
/// the error, the next step and LibreChat's own log line as evidence; `database_slow`
/// (degraded) over [`DATABASE_SLOW_MS`]; nothing when it was not checked.
pub(super) fn finding(db: &DatabaseCheck) -> Option<Finding> {
    let address = db.address.as_deref().unwrap_or("(no host)");
    if db.ok {
        let rtt = db.rtt_ms.filter(|r| *r > DATABASE_SLOW_MS)?;
        return Some(super::finding(
            "database",
            "database_slow",
            Severity::Degraded,
            format!(
                "the shim's in-VPC ping of MongoDB at {address} took {rtt:.0} ms (over \
                 {DATABASE_SLOW_MS:.0} ms). Likely cause: the database is overloaded or far \
                 (another region, a NAT hop); next: the database's own metrics (CPU, \
                 connections, slow queries) and where MONGO_URI points"
            ),
        ));
    }
    if db.not_checked.is_some() {
        return None;
    }
    let error = db.error.as_deref().unwrap_or("no error given");
    let port = address.rsplit(':').next().unwrap_or("27017");
    let cause = database_cause(error, port);
    let mut msg = format!(
        "the shim's in-VPC ping of MongoDB at {address} failed: {error}. Likely cause: {cause}. \
         Next: the database's own status (Atlas / DocumentDB console, or the host), the \
         function's security group egress and the database's ingress on port {port}, and the \
         MONGO_URI parameter in SSM (its host and port)"
    );
    if let Some(line) = &db.evidence {
        let age = db
            .evidence_age_s
            .map(|a| format!(" {a} s ago"))
            .unwrap_or_default();
        msg.push_str(&format!(". Evidence: LibreChat logged{age}: `{line}`"));
    }
    Some(super::finding(
        "database",
        "database_unreachable",
        Severity::Failing,
        msg,
    ))
}

/// The likely cause of a failed database `ping` from its error text (pure).
fn database_cause(error: &str, port: &str) -> String {
    let e = error.to_ascii_lowercase();
    if e.contains("refused") {
        format!(
            "nothing listens on port {port} there: MongoDB is stopped or crashed, or MONGO_URI \
             names the wrong host or port"
        )
    } else if e.contains("no answer within") || e.contains("timed out") {
        format!(
            "MongoDB is hung, or a security group / network ACL drops the function's packets to \
             port {port}"
        )
    } else if e.contains("lookup") || e.contains("resolve") || e.contains("name or service") {
        "the host name does not resolve (MONGO_URI's host, or the VPC's DNS)".into()
    } else if e.contains("tls") {
        "the TLS handshake failed (tlsCAFile, the server's certificate, or tls=true against a \
         server without TLS)"
            .into()
    } else if e.contains("ok: 0") {
        "the server answered but refused the ping (not a MongoDB primary, or a proxy in the way)"
            .into()
    } else {
        "the connection to the database failed (the error names how)".into()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{T, codes, redis_data};
    use super::super::{ProbeResults, Severity, findings};
    use crate::model::RedisData;

    #[test]
    fn database_findings_name_host_port_cause_next_step_and_evidence() {
        use opsconsole_wire::status::DatabaseCheck;
        let with = |db: DatabaseCheck| ProbeResults {
            redis: Some(Ok(RedisData {
                database: Some(db),
                ..redis_data(None, None)
            })),
            ..Default::default()
        };
        let down = DatabaseCheck {
            ok: false,
            address: Some("10.0.3.7:27017".into()),
            error: Some("10.0.3.7:27017: connect: Connection refused (os error 111)".into()),
            evidence: Some("error: connect ECONNREFUSED 10.0.3.7:27017".into()),
            evidence_age_s: Some(3),
            ..Default::default()
        };
        let f = findings(&with(down.clone()), &T);
        assert_eq!(codes(&with(down.clone())), ["database_unreachable"]);
        assert_eq!(f[0].check, "database");
        assert_eq!(f[0].severity, Severity::Failing);
        for needle in [
            "MongoDB at 10.0.3.7:27017",
            "Likely cause: nothing listens on port 27017",
            "Next:",
            "MONGO_URI",
            "Evidence: LibreChat logged 3 s ago: `error: connect ECONNREFUSED 10.0.3.7:27017`",
        ] {
            assert!(f[0].message.contains(needle), "{needle}: {}", f[0].message);
        }
        let hung = DatabaseCheck {
            error: Some("10.0.3.7:27017: no answer within 1500 ms".into()),
            evidence: None,
            ..down
        };
        let f = findings(&with(hung), &T);
        assert!(f[0].message.contains("MongoDB is hung"), "{}", f[0].message);
        assert!(!f[0].message.contains("Evidence"), "{}", f[0].message);
        let slow = DatabaseCheck {
            ok: true,
            address: Some("db:27017".into()),
            rtt_ms: Some(812.0),
            ..Default::default()
        };
        let f = findings(&with(slow.clone()), &T);
        assert_eq!(f[0].code, "database_slow");
        assert!(f[0].message.contains("812 ms"), "{}", f[0].message);
        assert!(
            codes(&with(DatabaseCheck {
                rtt_ms: Some(3.0),
                ..slow
            }))
            .is_empty()
        );
        let unchecked = DatabaseCheck {
            not_checked: Some("MONGO_URI is mongodb+srv://...".into()),
            ..Default::default()
        };
        assert!(codes(&with(unchecked)).is_empty());
    }
}
