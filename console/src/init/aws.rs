//! `opsconsole init`'s reads of the account, thin: each returns what it found or why it could
//! not read it ([`Facts`]); the judging is `init::checks`. Clients come from the one loader
//! (`crate::aws`). SSM parameter values never leave [`parameters`].

use std::collections::BTreeMap;

use aws_config::{Region, SdkConfig};
use aws_sdk_sts::error::ProvideErrorMetadata;

use super::checks::{
    Certificate, ConfigObject, Egress, Identity, Parameter, Permissions, RouteTable, SecurityGroup,
    Subnet, Vpc, Zone,
};

/// CloudFront's certificates live here.
pub const CERT_REGION: &str = "us-east-1";

/// The actions `terraform apply` of environments/dev calls, one or more per kind of resource it
/// creates (IAM policy simulation of the caller).
pub const APPLY_ACTIONS: &[&str] = &[
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "iam:PassRole",
    "lambda:CreateFunction",
    "lambda:AddPermission",
    "ecr:CreateRepository",
    "ecr:PutLifecyclePolicy",
    "apigateway:POST",
    "apigateway:PUT",
    "cloudfront:CreateDistribution",
    "cloudfront:CreateFunction",
    "cloudfront:CreateOriginAccessControl",
    "route53:ChangeResourceRecordSets",
    "s3:CreateBucket",
    "s3:PutBucketPolicy",
    "elasticache:CreateReplicationGroup",
    "elasticache:CreateCacheSubnetGroup",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "logs:CreateLogGroup",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:PutDashboard",
];

fn err<E: std::error::Error + 'static>(what: &str, e: &E) -> String {
    format!(
        "{what}: {}",
        opsconsole_proc::error_chain(e).replace('\n', " ")
    )
}

fn in_region(sdk: &SdkConfig, region: &str) -> SdkConfig {
    sdk.to_builder()
        .region(Region::new(region.to_string()))
        .build()
}

pub async fn identity(sdk: &SdkConfig) -> Result<Identity, String> {
    let out = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| err("sts:GetCallerIdentity", &e))?;
    Ok(Identity {
        account: out.account().unwrap_or_default().to_string(),
        arn: out.arn().unwrap_or_default().to_string(),
    })
}

pub struct Network {
    pub vpcs: Result<Vec<Vpc>, String>,
    pub subnets: Result<Vec<Subnet>, String>,
    pub route_tables: Result<Vec<RouteTable>, String>,
    pub security_groups: Result<Vec<SecurityGroup>, String>,
}

pub async fn network(sdk: &SdkConfig) -> Network {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let vpcs = async {
        let out = ec2
            .describe_vpcs()
            .send()
            .await
            .map_err(|e| err("ec2:DescribeVpcs", &e))?;
        let mut v = Vec::new();
        for vpc in out.vpcs() {
            let id = vpc.vpc_id().unwrap_or_default().to_string();
            let dns = ec2
                .describe_vpc_attribute()
                .vpc_id(&id)
                .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
                .send()
                .await
                .ok()
                .and_then(|a| a.enable_dns_support().and_then(|b| b.value()));
            let name = vpc
                .tags()
                .iter()
                .find(|t| t.key() == Some("Name"))
                .and_then(|t| t.value())
                .map(str::to_string);
            v.push(Vpc {
                id,
                name,
                dns_support: dns,
            });
        }
        Ok(v)
    };
    let subnets = async {
        let mut out = Vec::new();
        let mut pages = ec2.describe_subnets().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| err("ec2:DescribeSubnets", &e))?;
            out.extend(p.subnets().iter().map(|s| Subnet {
                id: s.subnet_id().unwrap_or_default().into(),
                vpc: s.vpc_id().unwrap_or_default().into(),
                az: s.availability_zone().unwrap_or_default().into(),
            }));
        }
        Ok(out)
    };
    let tables = async {
        let mut out = Vec::new();
        let mut pages = ec2.describe_route_tables().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| err("ec2:DescribeRouteTables", &e))?;
            for t in p.route_tables() {
                let default_route = t
                    .routes()
                    .iter()
                    .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                    .map_or(Egress::None, |r| {
                        if let Some(n) = r.nat_gateway_id() {
                            Egress::Nat(n.into())
                        } else if let Some(g) = r.gateway_id().filter(|g| g.starts_with("igw-")) {
                            Egress::Internet(g.into())
                        } else {
                            Egress::Other(
                                r.transit_gateway_id()
                                    .or(r.network_interface_id())
                                    .or(r.instance_id())
                                    .or(r.gateway_id())
                                    .unwrap_or("another target")
                                    .into(),
                            )
                        }
                    });
                let assoc = t.associations();
                out.push(RouteTable {
                    id: t.route_table_id().unwrap_or_default().into(),
                    vpc: t.vpc_id().unwrap_or_default().into(),
                    main: assoc.iter().any(|a| a.main() == Some(true)),
                    subnets: assoc
                        .iter()
                        .filter_map(|a| a.subnet_id().map(str::to_string))
                        .collect(),
                    default_route,
                });
            }
        }
        Ok(out)
    };
    let groups = async {
        let mut out = Vec::new();
        let mut pages = ec2.describe_security_groups().into_paginator().send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| err("ec2:DescribeSecurityGroups", &e))?;
            out.extend(p.security_groups().iter().map(|g| SecurityGroup {
                id: g.group_id().unwrap_or_default().into(),
                name: g.group_name().unwrap_or_default().into(),
                vpc: g.vpc_id().unwrap_or_default().into(),
            }));
        }
        Ok(out)
    };
    let (vpcs, subnets, route_tables, security_groups) =
        futures::join!(vpcs, subnets, tables, groups);
    Network {
        vpcs,
        subnets,
        route_tables,
        security_groups,
    }
}

/// Every certificate in us-east-1, with its names and status.
pub async fn certificates(sdk: &SdkConfig) -> Result<Vec<Certificate>, String> {
    use aws_sdk_acm::types::CertificateStatus as S;
    let acm = aws_sdk_acm::Client::new(&in_region(sdk, CERT_REGION));
    let statuses = [
        S::Issued,
        S::PendingValidation,
        S::Inactive,
        S::Expired,
        S::ValidationTimedOut,
        S::Revoked,
        S::Failed,
    ];
    let mut arns = Vec::new();
    let mut pages = acm
        .list_certificates()
        .set_certificate_statuses(Some(statuses.to_vec()))
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| err("acm:ListCertificates", &e))?;
        arns.extend(
            p.certificate_summary_list()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_string)),
        );
    }
    let mut out = Vec::new();
    for arn in arns {
        let d = acm
            .describe_certificate()
            .certificate_arn(&arn)
            .send()
            .await
            .map_err(|e| err("acm:DescribeCertificate", &e))?;
        let Some(c) = d.certificate() else { continue };
        let domain = c.domain_name().unwrap_or_default().to_string();
        let mut names: Vec<String> = c.subject_alternative_names().to_vec();
        if !names.contains(&domain) {
            names.push(domain.clone());
        }
        out.push(Certificate {
            arn,
            domain,
            names,
            status: c
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        });
    }
    Ok(out)
}

pub async fn zones(sdk: &SdkConfig) -> Result<Vec<Zone>, String> {
    let r53 = aws_sdk_route53::Client::new(sdk);
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let p = r53
            .list_hosted_zones()
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| err("route53:ListHostedZones", &e))?;
        out.extend(p.hosted_zones().iter().map(|z| Zone {
            id: z.id().trim_start_matches("/hostedzone/").to_string(),
            name: z.name().trim_end_matches('.').to_string(),
            private: z.config().is_some_and(|c| c.private_zone()),
        }));
        match p.next_marker() {
            Some(m) if p.is_truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    Ok(out)
}

/// The parameters found among `names` (type and ARN; the value is dropped here).
pub async fn parameters(
    sdk: &SdkConfig,
    names: &[String],
) -> Result<BTreeMap<String, Parameter>, String> {
    let ssm = aws_sdk_ssm::Client::new(sdk);
    let mut out = BTreeMap::new();
    for batch in names.chunks(10) {
        let p = ssm
            .get_parameters()
            .set_names(Some(batch.to_vec()))
            .with_decryption(false)
            .send()
            .await
            .map_err(|e| err("ssm:GetParameters", &e))?;
        for par in p.parameters() {
            out.insert(
                par.name().unwrap_or_default().to_string(),
                Parameter {
                    kind: par
                        .r#type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    arn: par.arn().unwrap_or_default().to_string(),
                },
            );
        }
    }
    Ok(out)
}

/// The largest config object read (LibreChat's are a few KB).
const CONFIG_LIMIT: usize = 1 << 20;

pub async fn config_object(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> ConfigObject {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => match o.body.collect().await {
            Ok(b) => {
                let bytes = b.into_bytes();
                if bytes.len() > CONFIG_LIMIT {
                    return ConfigObject::Unreadable(format!("{} bytes: too large", bytes.len()));
                }
                ConfigObject::Text(String::from_utf8_lossy(&bytes).into_owned())
            }
            Err(e) => ConfigObject::Unreadable(err("reading the body", &e)),
        },
        Err(e) => match e.code() {
            Some(c @ ("NoSuchKey" | "NoSuchBucket")) => ConfigObject::Missing(c.to_string()),
            _ if e.raw_response().map(|r| r.status().as_u16()) == Some(404) => {
                ConfigObject::Missing("404".into())
            }
            _ => ConfigObject::Unreadable(err("s3:GetObject", &e)),
        },
    }
}

/// The IAM principal to simulate for a caller ARN (an assumed role's role; `None` for root).
pub fn principal_arn(caller: &str) -> Option<String> {
    if caller.ends_with(":root") {
        return None;
    }
    if let Some((head, rest)) = caller.split_once(":assumed-role/") {
        let role = rest.split('/').next()?;
        let account = head.rsplit(':').next()?;
        return Some(format!("arn:aws:iam::{account}:role/{role}"));
    }
    Some(caller.to_string())
}

pub async fn permissions(sdk: &SdkConfig, caller: &str) -> Permissions {
    let Some(principal) = principal_arn(caller) else {
        return Permissions::NotChecked("the account's root user may do everything".into());
    };
    let iam = aws_sdk_iam::Client::new(sdk);
    let mut denied = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let r = iam
            .simulate_principal_policy()
            .policy_source_arn(&principal)
            .set_action_names(Some(APPLY_ACTIONS.iter().map(|s| s.to_string()).collect()))
            .set_marker(marker.clone())
            .send()
            .await;
        let out = match r {
            Ok(o) => o,
            Err(e) => {
                return Permissions::NotChecked(format!(
                    "IAM policy simulation failed ({})",
                    err("iam:SimulatePrincipalPolicy", &e)
                ));
            }
        };
        for res in out.evaluation_results() {
            if res.eval_decision().as_str() != "allowed" {
                denied.push(res.eval_action_name().to_string());
            }
        }
        match out.marker() {
            Some(m) if out.is_truncated() => marker = Some(m.to_string()),
            _ => break,
        }
    }
    denied.sort();
    denied.dedup();
    Permissions::Simulated {
        checked: APPLY_ACTIONS.len(),
        denied,
    }
}

/// Resources tagged as the environment's (`Project=librechat`, `Environment=ENV`: the
/// providers' default_tags) in `region`: their ARNs.
pub async fn tagged(sdk: &SdkConfig, region: &str, env: &str) -> Result<Vec<String>, String> {
    use aws_sdk_resourcegroupstagging::types::TagFilter;
    let client = aws_sdk_resourcegroupstagging::Client::new(&in_region(sdk, region));
    let mut out = Vec::new();
    let mut pages = client
        .get_resources()
        .tag_filters(
            TagFilter::builder()
                .key("Project")
                .values("librechat")
                .build(),
        )
        .tag_filters(TagFilter::builder().key("Environment").values(env).build())
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| err(&format!("tag:GetResources ({region})"), &e))?;
        out.extend(
            p.resource_tag_mapping_list()
                .iter()
                .filter_map(|m| m.resource_arn().map(str::to_string)),
        );
    }
    Ok(out)
}

/// Managed resources in the state object `s3://bucket/key`: `None` when there is no object.
pub async fn state_resources(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<usize>, String> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => {
            let b = o
                .body
                .collect()
                .await
                .map_err(|e| err("reading the state", &e))?
                .into_bytes();
            Ok(Some(super::count_state_resources(
                &String::from_utf8_lossy(&b),
            )))
        }
        Err(e) if matches!(e.code(), Some("NoSuchKey" | "NoSuchBucket")) => Ok(None),
        Err(e) => Err(err(&format!("s3:GetObject s3://{bucket}/{key}"), &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::principal_arn;

    #[test]
    fn an_assumed_role_is_simulated_as_its_role() {
        assert_eq!(
            principal_arn("arn:aws:sts::123:assumed-role/Admin/me@x").as_deref(),
            Some("arn:aws:iam::123:role/Admin")
        );
        assert_eq!(
            principal_arn("arn:aws:iam::123:user/op").as_deref(),
            Some("arn:aws:iam::123:user/op")
        );
        assert_eq!(principal_arn("arn:aws:iam::123:root"), None);
    }
}
