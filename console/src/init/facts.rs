//! What `opsconsole init` read from the account (`init::aws` fills it; `init::checks` judges it).
//! A list that could not be read is `Err(why)`.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub name: Option<String>,
    pub dns_support: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub id: String,
    pub vpc: String,
    pub az: String,
}

/// Where a route table sends 0.0.0.0/0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Egress {
    Nat(String),
    Internet(String),
    Other(String),
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub id: String,
    pub vpc: String,
    pub main: bool,
    pub subnets: Vec<String>,
    pub default_route: Egress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub arn: String,
    pub domain: String,
    pub names: Vec<String>,
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    /// Without the trailing dot.
    pub name: String,
    pub private: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub vpc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub kind: String,
    pub arn: String,
}

/// The config object: its text, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigObject {
    NotAsked,
    Missing(String),
    Unreadable(String),
    Text(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permissions {
    NotChecked(String),
    Simulated { checked: usize, denied: Vec<String> },
}

/// What the account holds. A list that could not be read is `Err(why)`.
#[derive(Debug, Clone)]
pub struct Facts {
    pub identity: Result<Identity, String>,
    /// Evidence that the environment is deployed (state object, tagged resources).
    pub deployed: Vec<String>,
    /// The deployed environment's tfvars equal what init would write (a re-run after a failed
    /// apply: continue).
    pub resume: bool,
    pub vpcs: Result<Vec<Vpc>, String>,
    pub subnets: Result<Vec<Subnet>, String>,
    pub route_tables: Result<Vec<RouteTable>, String>,
    pub security_groups: Result<Vec<SecurityGroup>, String>,
    pub certificates: Result<Vec<Certificate>, String>,
    pub zones: Result<Vec<Zone>, String>,
    /// Found parameters by name (missing ones are absent).
    pub parameters: Result<BTreeMap<String, Parameter>, String>,
    pub config: ConfigObject,
    pub permissions: Permissions,
}
