//! `opsconsole init`'s prerequisite checks, pure: what was asked for ([`Request`], from the flags
//! and the starting tfvars) against what the account holds ([`Facts`], read by `init::aws`),
//! giving one [`Check`] per prerequisite (pass / warn / fail, the candidates found, the fix) and,
//! when nothing failed, the [`Choices`] the tfvars are written from.

use std::collections::BTreeMap;

use serde::Serialize;

/// The secrets LibreChat cannot start without (it refuses to boot, or cannot reach its
/// database): each must be in `ssm_secrets`.
pub const REQUIRED_SECRETS: &[&str] = &[
    "CREDS_IV",
    "CREDS_KEY",
    "JWT_REFRESH_SECRET",
    "JWT_SECRET",
    "MONGO_URI",
];

/// What the operator asked for (flags over the starting tfvars). `None`/empty: let init choose
/// among the candidates (it does when there is exactly one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Request {
    pub env: String,
    pub region: String,
    pub domain: Option<String>,
    pub vpc: Option<String>,
    pub subnets: Vec<String>,
    pub certificate: Option<String>,
    pub zone: Option<String>,
    /// role => group id (a stale id is replaced by the group of that name in the VPC).
    pub security_groups: BTreeMap<String, String>,
    pub config_bucket: Option<String>,
    pub config_key: Option<String>,
    /// NAME => SSM parameter name or ARN.
    pub secrets: BTreeMap<String, String>,
}

pub use super::facts::{
    Certificate, ConfigObject, Egress, Facts, Identity, Parameter, Permissions, RouteTable,
    SecurityGroup, Subnet, Vpc, Zone,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub detail: String,
    pub chosen: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub summary: String,
    /// The next step when it did not pass.
    pub fix: Option<String>,
    pub candidates: Vec<Candidate>,
}

impl Check {
    fn new(id: &'static str, status: Status, summary: impl Into<String>) -> Check {
        Check {
            id,
            status,
            summary: summary.into(),
            fix: None,
            candidates: vec![],
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
    fn with(mut self, candidates: Vec<Candidate>) -> Check {
        self.candidates = candidates;
        self
    }
}

/// What the tfvars are written from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Choices {
    pub region: String,
    pub custom_domain: String,
    pub vpc_id: String,
    pub private_subnet_ids: Vec<String>,
    pub security_group_ids: BTreeMap<String, String>,
    pub acm_certificate_arn: String,
    pub route53_zone_id: String,
    pub config_s3_bucket: String,
    pub config_s3_key: String,
    /// NAME => parameter ARN in this account.
    pub ssm_secrets: BTreeMap<String, String>,
}

/// Where 0.0.0.0/0 of `subnet` goes: its associated route table's, else the VPC's main one's.
pub fn subnet_egress(subnet: &Subnet, tables: &[RouteTable]) -> Egress {
    let table = tables
        .iter()
        .find(|t| t.subnets.iter().any(|s| s == &subnet.id))
        .or_else(|| tables.iter().find(|t| t.main && t.vpc == subnet.vpc));
    table.map_or(Egress::None, |t| t.default_route.clone())
}

/// Whether a certificate name (`example.com`, `*.example.com`) covers `domain`.
pub fn name_covers(name: &str, domain: &str) -> bool {
    let (name, domain) = (
        name.trim_end_matches('.').to_ascii_lowercase(),
        domain.trim_end_matches('.').to_ascii_lowercase(),
    );
    match name.strip_prefix("*.") {
        Some(parent) => domain
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => name == domain,
    }
}

/// Whether hosted zone `zone` can hold a record for `domain`.
pub fn zone_matches(zone: &str, domain: &str) -> bool {
    let (z, d) = (
        zone.trim_end_matches('.').to_ascii_lowercase(),
        domain.trim_end_matches('.').to_ascii_lowercase(),
    );
    d == z || d.ends_with(&format!(".{z}"))
}

/// The parameter name of an SSM reference (`arn:aws:ssm:R:A:parameter/a/b` -> `/a/b`).
pub fn parameter_name(reference: &str) -> String {
    match reference.split_once(":parameter") {
        Some((_, rest)) if reference.starts_with("arn:") => {
            format!("/{}", rest.trim_start_matches('/'))
        }
        _ => reference.to_string(),
    }
}

/// Whether `librechat.yaml`'s text parses as YAML into a mapping.
pub fn yaml_problem(text: &str) -> Option<String> {
    match serde_norway::from_str::<serde_norway::Value>(text) {
        Ok(serde_norway::Value::Mapping(m)) => {
            if m.contains_key("version") {
                None
            } else {
                Some("parses, but has no `version` key (LibreChat expects one)".into())
            }
        }
        Ok(_) => Some("parses, but is not a mapping".into()),
        Err(e) => Some(format!("does not parse: {e}")),
    }
}

fn pick<'a>(asked: Option<&'a str>, candidates: &'a [String]) -> Result<&'a str, &'static str> {
    match (asked, candidates) {
        (Some(a), c) if c.iter().any(|x| x == a) => Ok(a),
        (Some(_), _) => Err("asked"),
        (None, [one]) => Ok(one),
        (None, []) => Err("none"),
        (None, _) => Err("several"),
    }
}

fn unread(id: &'static str, what: &str, e: &str) -> Check {
    Check::new(id, Status::Fail, format!("cannot list {what}: {e}"))
        .fix("check the credentials' permissions and the region, then re-run")
}

/// Evaluates every prerequisite. `Choices` only when no check failed.
pub fn evaluate(req: &Request, f: &Facts) -> (Vec<Check>, Option<Choices>) {
    let mut checks = Vec::new();
    let mut ch = Choices {
        region: req.region.clone(),
        ..Choices::default()
    };
    match &f.identity {
        Ok(id) => checks.push(Check::new(
            "credentials",
            Status::Pass,
            format!("account {} as {}", id.account, id.arn),
        )),
        Err(e) => {
            checks.push(
                Check::new("credentials", Status::Fail, format!("no usable AWS credentials: {e}"))
                    .fix("log in (`aws sso login --profile P`, then --profile P) or export AWS credentials, then re-run"),
            );
            return (checks, None);
        }
    }
    checks.push(existing_check(req, f));
    match &req.domain {
        Some(d) if !d.is_empty() => ch.custom_domain = d.clone(),
        _ => checks.push(Check::new("domain", Status::Fail, "no domain given").fix(
            "pass --domain chat.example.com (the site's name, in a hosted zone of this account)",
        )),
    }
    checks.extend(network_checks(req, f, &mut ch));
    checks.push(certificate_check(req, f, &mut ch));
    checks.push(zone_check(req, f, &mut ch));
    checks.push(ssm_check(req, f, &mut ch));
    checks.push(config_check(req, f, &mut ch));
    checks.extend(files_check(f));
    checks.push(permissions_check(&f.permissions));
    let ok = checks.iter().all(|c| c.status != Status::Fail);
    (checks, ok.then_some(ch))
}

fn existing_check(req: &Request, f: &Facts) -> Check {
    let env = &req.env;
    if f.deployed.is_empty() {
        return Check::new(
            "existing",
            Status::Pass,
            format!("`{env}` is not deployed in this account"),
        );
    }
    let found = f
        .deployed
        .iter()
        .map(|e| Candidate {
            id: e.clone(),
            detail: String::new(),
            chosen: false,
        })
        .collect();
    if f.resume {
        return Check::new(
            "existing",
            Status::Warn,
            format!("`{env}` is partly or wholly deployed with the same variables: init continues it (plan and apply)"),
        )
        .with(found);
    }
    Check::new("existing", Status::Fail, format!("`{env}` is already deployed (state or tagged resources found)"))
        .fix(format!("operate it with `opsconsole {env}`, change it with `terraform plan`/`apply` in its directory, or pick another environment name"))
        .with(found)
}

fn network_checks(req: &Request, f: &Facts, ch: &mut Choices) -> Vec<Check> {
    let (vpcs, subnets, tables) = match (&f.vpcs, &f.subnets, &f.route_tables) {
        (Ok(v), Ok(s), Ok(t)) => (v, s, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return vec![unread("vpc", "VPCs, subnets and route tables", e)];
        }
    };
    let nat_subnets = |vpc: &str| -> Vec<&Subnet> {
        let mut v: Vec<&Subnet> = subnets
            .iter()
            .filter(|s| s.vpc == vpc && matches!(subnet_egress(s, tables), Egress::Nat(_)))
            .collect();
        v.sort_by(|a, b| (&a.az, &a.id).cmp(&(&b.az, &b.id)));
        v
    };
    let with_nat: Vec<String> = vpcs
        .iter()
        .filter(|v| !nat_subnets(&v.id).is_empty())
        .map(|v| v.id.clone())
        .collect();
    let describe = |v: &Vpc| {
        let n = nat_subnets(&v.id).len();
        format!(
            "{}{} private subnet(s) via NAT",
            v.name
                .as_ref()
                .map(|n| format!("{n}: "))
                .unwrap_or_default(),
            n
        )
    };
    let mut out = Vec::new();
    let chosen = pick(req.vpc.as_deref(), &with_nat);
    let cands = |chosen: Option<&str>| {
        vpcs.iter()
            .map(|v| Candidate {
                id: v.id.clone(),
                detail: describe(v),
                chosen: Some(v.id.as_str()) == chosen,
            })
            .collect::<Vec<_>>()
    };
    const NAT_FIX: &str = "give the VPC private subnets whose route table sends 0.0.0.0/0 to a NAT gateway (a NAT gateway in a public subnet, a route to it), or pass --vpc with one that has them";
    let vpc = match chosen {
        Ok(id) => {
            out.push(Check::new("vpc", Status::Pass, format!("VPC {id}")).with(cands(Some(id))));
            id.to_string()
        }
        Err("asked") => {
            let asked = req.vpc.clone().unwrap_or_default();
            let why = if vpcs.iter().any(|v| v.id == asked) {
                format!("VPC {asked} has no private subnet that routes to a NAT gateway")
            } else {
                format!("VPC {asked} does not exist in {}", req.region)
            };
            out.push(
                Check::new("vpc", Status::Fail, why)
                    .fix(NAT_FIX)
                    .with(cands(None)),
            );
            return out;
        }
        Err("several") => {
            out.push(
                Check::new(
                    "vpc",
                    Status::Fail,
                    "several VPCs have private subnets with a NAT route",
                )
                .fix("choose one with --vpc ID")
                .with(cands(None)),
            );
            return out;
        }
        Err(_) => {
            out.push(
                Check::new(
                    "vpc",
                    Status::Fail,
                    format!(
                        "no VPC in {} has a private subnet that routes to a NAT gateway",
                        req.region
                    ),
                )
                .fix(NAT_FIX)
                .with(cands(None)),
            );
            return out;
        }
    };
    if vpcs
        .iter()
        .any(|v| v.id == vpc && v.dns_support == Some(false))
    {
        out.push(
            Check::new(
                "vpc_dns",
                Status::Fail,
                format!(
                    "VPC {vpc} has DNS support off (the .local Cloud Map names resolve through it)"
                ),
            )
            .fix(format!(
                "aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-support"
            )),
        );
    }
    let nat: Vec<&Subnet> = nat_subnets(&vpc);
    let sub_cands = |chosen: &[String]| {
        subnets
            .iter()
            .filter(|s| s.vpc == vpc)
            .map(|s| {
                let egress = match subnet_egress(s, tables) {
                    Egress::Nat(n) => format!("NAT {n}"),
                    Egress::Internet(g) => format!("public ({g})"),
                    Egress::Other(t) => format!("0.0.0.0/0 to {t}"),
                    Egress::None => "no default route".into(),
                };
                Candidate {
                    id: s.id.clone(),
                    detail: format!("{} {egress}", s.az),
                    chosen: chosen.contains(&s.id),
                }
            })
            .collect::<Vec<_>>()
    };
    let picked: Vec<String> = if req.subnets.is_empty() {
        nat.iter().map(|s| s.id.clone()).collect()
    } else {
        req.subnets.clone()
    };
    let bad: Vec<&String> = picked
        .iter()
        .filter(|p| !nat.iter().any(|s| &&s.id == p))
        .collect();
    if bad.is_empty() {
        out.push(
            Check::new(
                "subnets",
                Status::Pass,
                format!("{} private subnet(s) with a NAT route", picked.len()),
            )
            .with(sub_cands(&picked)),
        );
        ch.vpc_id = vpc.clone();
        ch.private_subnet_ids = picked;
    } else {
        let list = bad
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Check::new("subnets", Status::Fail, format!("not a private subnet of {vpc} with a NAT route: {list}"))
            .fix("pass --subnets with subnets of the VPC whose route table sends 0.0.0.0/0 to a NAT gateway (or leave it out: all of them)")
            .with(sub_cands(&[])));
    }
    out.push(security_group_check(req, f, &vpc, ch));
    out
}

fn security_group_check(req: &Request, f: &Facts, vpc: &str, ch: &mut Choices) -> Check {
    let groups = match &f.security_groups {
        Ok(g) => g,
        Err(e) => return unread("security_groups", "security groups", e),
    };
    if req.security_groups.is_empty() {
        return Check::new(
            "security_groups",
            Status::Pass,
            "no extra security group asked for",
        );
    }
    let mut missing = Vec::new();
    let mut cands = Vec::new();
    for (role, asked) in &req.security_groups {
        let in_vpc = |g: &&SecurityGroup| g.vpc == vpc;
        let found = groups
            .iter()
            .filter(in_vpc)
            .find(|g| &g.id == asked)
            .or_else(|| groups.iter().filter(in_vpc).find(|g| &g.name == role));
        match found {
            Some(g) => {
                ch.security_group_ids.insert(role.clone(), g.id.clone());
                cands.push(Candidate {
                    id: g.id.clone(),
                    detail: format!("{role}: {}", g.name),
                    chosen: true,
                });
            }
            None => missing.push(role.as_str()),
        }
    }
    if missing.is_empty() {
        Check::new(
            "security_groups",
            Status::Pass,
            format!("{} group(s) in {vpc}", ch.security_group_ids.len()),
        )
        .with(cands)
    } else {
        Check::new("security_groups", Status::Fail, format!("no group in {vpc} for: {}", missing.join(", ")))
            .fix("pass --security-group ROLE=sg-... with a group of the VPC (e.g. the one the database admits)")
            .with(cands)
    }
}

fn certificate_check(req: &Request, f: &Facts, ch: &mut Choices) -> Check {
    let Some(domain) = req.domain.as_deref() else {
        return Check::new("certificate", Status::Skipped, "no domain");
    };
    let certs = match &f.certificates {
        Ok(c) => c,
        Err(e) => return unread("certificate", "ACM certificates in us-east-1", e),
    };
    let covering: Vec<&Certificate> = certs
        .iter()
        .filter(|c| c.names.iter().any(|n| name_covers(n, domain)))
        .collect();
    let issued: Vec<String> = covering
        .iter()
        .filter(|c| c.status == "ISSUED")
        .map(|c| c.arn.clone())
        .collect();
    let chosen = pick(req.certificate.as_deref(), &issued);
    let cands = covering
        .iter()
        .map(|c| Candidate {
            id: c.arn.clone(),
            detail: format!("{} {}", c.domain, c.status),
            chosen: chosen.ok() == Some(c.arn.as_str()),
        })
        .collect();
    let request_fix = format!(
        "aws acm request-certificate --region us-east-1 --domain-name {domain} --validation-method DNS, add its validation record to the zone, wait until it is ISSUED, re-run"
    );
    match chosen {
        Ok(arn) => {
            ch.acm_certificate_arn = arn.to_string();
            Check::new(
                "certificate",
                Status::Pass,
                format!("{arn} covers {domain} (us-east-1, ISSUED)"),
            )
            .with(cands)
        }
        Err("asked") => {
            let asked = req.certificate.clone().unwrap_or_default();
            let why = match certs.iter().find(|c| c.arn == asked) {
                None => format!(
                    "certificate {asked} not found in us-east-1 (CloudFront takes only us-east-1 certificates)"
                ),
                Some(c) if c.status != "ISSUED" => {
                    format!("certificate {asked} is {}, not ISSUED", c.status)
                }
                Some(_) => format!("certificate {asked} does not cover {domain}"),
            };
            Check::new("certificate", Status::Fail, why)
                .fix(request_fix)
                .with(cands)
        }
        Err("several") => Check::new(
            "certificate",
            Status::Fail,
            format!("several ISSUED certificates cover {domain}"),
        )
        .fix("choose one with --certificate ARN")
        .with(cands),
        Err(_) if !covering.is_empty() => Check::new(
            "certificate",
            Status::Fail,
            format!(
                "no ISSUED certificate in us-east-1 covers {domain} (found some not yet ISSUED)"
            ),
        )
        .fix(
            "complete the DNS validation of the pending certificate, or request one: ".to_string()
                + &request_fix,
        )
        .with(cands),
        Err(_) => Check::new(
            "certificate",
            Status::Fail,
            format!("no certificate in us-east-1 covers {domain}"),
        )
        .fix(request_fix),
    }
}

fn zone_check(req: &Request, f: &Facts, ch: &mut Choices) -> Check {
    let Some(domain) = req.domain.as_deref() else {
        return Check::new("zone", Status::Skipped, "no domain");
    };
    let zones = match &f.zones {
        Ok(z) => z,
        Err(e) => return unread("zone", "Route53 hosted zones", e),
    };
    let matching: Vec<&Zone> = zones
        .iter()
        .filter(|z| !z.private && zone_matches(&z.name, domain))
        .collect();
    // The closest zone (the longest name) is where the record goes.
    let longest = matching.iter().map(|z| z.name.len()).max().unwrap_or(0);
    let best: Vec<String> = matching
        .iter()
        .filter(|z| z.name.len() == longest)
        .map(|z| z.id.clone())
        .collect();
    let asked_ok: Vec<String> = matching.iter().map(|z| z.id.clone()).collect();
    let chosen = match req.zone.as_deref() {
        Some(a) => pick(Some(a), &asked_ok),
        None => pick(None, &best),
    };
    let cands = matching
        .iter()
        .map(|z| Candidate {
            id: z.id.clone(),
            detail: z.name.clone(),
            chosen: chosen.ok() == Some(z.id.as_str()),
        })
        .collect();
    match chosen {
        Ok(id) => {
            ch.route53_zone_id = id.to_string();
            Check::new("zone", Status::Pass, format!("hosted zone {id} holds {domain}")).with(cands)
        }
        Err("asked") => Check::new("zone", Status::Fail, format!("hosted zone {} is not a public zone of {domain}", req.zone.clone().unwrap_or_default()))
            .fix(format!("pass --zone with a public hosted zone that holds {domain}")).with(cands),
        Err("several") => Check::new("zone", Status::Fail, format!("several public hosted zones hold {domain}")).fix("choose one with --zone ID").with(cands),
        Err(_) => Check::new("zone", Status::Fail, format!("no public hosted zone holds {domain}"))
            .fix(format!("create one (aws route53 create-hosted-zone --name <parent of {domain}>) and delegate it, or use a domain in an existing zone")),
    }
}

fn ssm_check(req: &Request, f: &Facts, ch: &mut Choices) -> Check {
    let mut missing_names: Vec<&str> = REQUIRED_SECRETS
        .iter()
        .copied()
        .filter(|n| !req.secrets.contains_key(*n))
        .collect();
    let params = match &f.parameters {
        Ok(p) => p,
        Err(e) => return unread("ssm", "SSM parameters", e),
    };
    let mut cands = Vec::new();
    let (mut missing, mut wrong, mut plain) = (Vec::new(), Vec::new(), Vec::new());
    for (name, reference) in &req.secrets {
        let pname = parameter_name(reference);
        let detail = match params.get(&pname) {
            None => {
                missing.push(format!("{name} ({pname})"));
                "missing".to_string()
            }
            Some(p) if p.kind == "StringList" => {
                wrong.push(format!("{name} ({pname})"));
                "StringList: wrong type".into()
            }
            Some(p) => {
                if p.kind == "String" {
                    plain.push(name.as_str());
                }
                ch.ssm_secrets.insert(name.clone(), p.arn.clone());
                p.kind.clone()
            }
        };
        cands.push(Candidate {
            id: pname,
            detail: format!("{name}: {detail}"),
            chosen: params.contains_key(&parameter_name(reference)),
        });
    }
    missing_names.sort_unstable();
    if !missing.is_empty() || !wrong.is_empty() || !missing_names.is_empty() {
        let mut parts = Vec::new();
        if !missing_names.is_empty() {
            parts.push(format!(
                "not among the secrets: {}",
                missing_names.join(", ")
            ));
        }
        if !missing.is_empty() {
            parts.push(format!("missing: {}", missing.join(", ")));
        }
        if !wrong.is_empty() {
            parts.push(format!("wrong type (StringList): {}", wrong.join(", ")));
        }
        return Check::new("ssm", Status::Fail, parts.join("; "))
            .fix("aws ssm put-parameter --type SecureString --name NAME --value ... for each missing one (and --secret NAME=/param/name for a secret not listed), then re-run")
            .with(cands);
    }
    if !plain.is_empty() {
        return Check::new(
            "ssm",
            Status::Warn,
            format!(
                "{} parameter(s) present; plain String (not encrypted): {}",
                req.secrets.len(),
                plain.join(", ")
            ),
        )
        .fix("store secrets as SecureString")
        .with(cands);
    }
    Check::new(
        "ssm",
        Status::Pass,
        format!("{} parameter(s) present, SecureString", req.secrets.len()),
    )
    .with(cands)
}

fn config_check(req: &Request, f: &Facts, ch: &mut Choices) -> Check {
    let (Some(b), Some(k)) = (&req.config_bucket, &req.config_key) else {
        return Check::new("config_object", Status::Fail, "no config object given")
            .fix("pass --config-bucket B --config-key K (where librechat.yaml lives)");
    };
    let at = format!("s3://{b}/{k}");
    match &f.config {
        ConfigObject::NotAsked => Check::new("config_object", Status::Skipped, format!("{at} not read")),
        ConfigObject::Missing(why) => Check::new("config_object", Status::Fail, format!("{at} does not exist ({why})"))
            .fix(format!("aws s3 cp librechat.yaml {at}")),
        ConfigObject::Unreadable(why) => Check::new("config_object", Status::Warn, format!("{at} could not be read: {why}"))
            .fix("a bucket in another account must admit the function's role (its policy); check it parses yourself"),
        ConfigObject::Text(t) => match yaml_problem(t) {
            None => {
                ch.config_s3_bucket = b.clone();
                ch.config_s3_key = k.clone();
                Check::new("config_object", Status::Pass, format!("{at}: librechat.yaml parses"))
            }
            Some(p) if p.starts_with("parses") => {
                ch.config_s3_bucket = b.clone();
                ch.config_s3_key = k.clone();
                Check::new("config_object", Status::Warn, format!("{at}: librechat.yaml {p}"))
            }
            Some(p) => Check::new("config_object", Status::Fail, format!("{at}: librechat.yaml {p}"))
                .fix(format!("fix the YAML and upload it again (aws s3 cp librechat.yaml {at})")),
        },
    }
}

/// Where LibreChat keeps user files and how large they may be (issue 30): the probe's judge
/// ([`crate::domain::files::judge`]) over the config object's text; a warning, not a block (the
/// site works, uploads do not). Nothing when the text was not read or does not parse
/// (`config_object` says so).
fn files_check(f: &Facts) -> Option<Check> {
    let ConfigObject::Text(t) = &f.config else {
        return None;
    };
    let j = crate::domain::files::judge(t);
    let s = j.summary?;
    if j.findings.is_empty() {
        let limit = s
            .largest_limit
            .map(|l| format!(", largest file limit {} MB ({})", l.mb, l.key))
            .unwrap_or_default();
        return Some(Check::new(
            "files",
            Status::Pass,
            format!("librechat.yaml: fileStrategy {}{limit}", s.file_strategy),
        ));
    }
    let summary: Vec<String> = j
        .findings
        .iter()
        .map(|x| format!("{}: {}", x.code, x.summary))
        .collect();
    let fix: Vec<&str> = j.findings.iter().map(|x| x.fix.as_str()).collect();
    Some(Check::new("files", Status::Warn, summary.join(" ")).fix(fix.join("\n")))
}

fn permissions_check(p: &Permissions) -> Check {
    match p {
        Permissions::NotChecked(why) => Check::new(
            "permissions",
            Status::Skipped,
            format!("not checked: {why}"),
        ),
        Permissions::Simulated { checked, denied } if denied.is_empty() => Check::new(
            "permissions",
            Status::Pass,
            format!("the {checked} actions apply needs are allowed (IAM policy simulation)"),
        ),
        Permissions::Simulated { checked, denied } => Check::new(
            "permissions",
            Status::Fail,
            format!(
                "{} of {checked} actions apply needs are denied: {}",
                denied.len(),
                denied.join(", ")
            ),
        )
        .fix("ask for a role or policy that allows them, then re-run"),
    }
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
