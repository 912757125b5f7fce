use super::*;

const DOMAIN: &str = "chat.example.com";
const CERT: &str = "arn:aws:acm:us-east-1:1:certificate/a";

fn request() -> Request {
    let secrets = REQUIRED_SECRETS
        .iter()
        .map(|n| {
            (
                n.to_string(),
                format!("arn:aws:ssm:eu-west-1:999:parameter/app/{n}"),
            )
        })
        .collect();
    Request {
        env: "dev".into(),
        region: "eu-west-1".into(),
        domain: Some(DOMAIN.into()),
        security_groups: [("shared".to_string(), "sg-stale".to_string())].into(),
        config_bucket: Some("cfg".into()),
        config_key: Some("librechat.yaml".into()),
        secrets,
        ..Request::default()
    }
}

fn subnet(id: &str, vpc: &str, az: &str) -> Subnet {
    Subnet {
        id: id.into(),
        vpc: vpc.into(),
        az: az.into(),
    }
}

/// One good VPC (two private subnets through a NAT, a public one), the default VPC (public only),
/// one issued certificate, the zone, the parameters, a config object that parses.
fn facts() -> Facts {
    let parameters = REQUIRED_SECRETS
        .iter()
        .map(|n| {
            (
                format!("/app/{n}"),
                Parameter {
                    kind: "SecureString".into(),
                    arn: format!("arn:aws:ssm:eu-west-1:1:parameter/app/{n}"),
                },
            )
        })
        .collect();
    Facts {
        identity: Ok(Identity {
            account: "1".into(),
            arn: "arn:aws:iam::1:user/op".into(),
        }),
        deployed: vec![],
        resume: false,
        vpcs: Ok(vec![
            Vpc {
                id: "vpc-default".into(),
                name: None,
                dns_support: Some(true),
            },
            Vpc {
                id: "vpc-app".into(),
                name: Some("app".into()),
                dns_support: Some(true),
            },
        ]),
        subnets: Ok(vec![
            subnet("subnet-d1", "vpc-default", "eu-west-1a"),
            subnet("subnet-b", "vpc-app", "eu-west-1b"),
            subnet("subnet-a", "vpc-app", "eu-west-1a"),
            subnet("subnet-pub", "vpc-app", "eu-west-1a"),
        ]),
        route_tables: Ok(vec![
            RouteTable {
                id: "rtb-dmain".into(),
                vpc: "vpc-default".into(),
                main: true,
                subnets: vec![],
                default_route: Egress::Internet("igw-d".into()),
            },
            RouteTable {
                id: "rtb-main".into(),
                vpc: "vpc-app".into(),
                main: true,
                subnets: vec![],
                default_route: Egress::None,
            },
            RouteTable {
                id: "rtb-priv".into(),
                vpc: "vpc-app".into(),
                main: false,
                subnets: vec!["subnet-a".into(), "subnet-b".into()],
                default_route: Egress::Nat("nat-1".into()),
            },
            RouteTable {
                id: "rtb-pub".into(),
                vpc: "vpc-app".into(),
                main: false,
                subnets: vec!["subnet-pub".into()],
                default_route: Egress::Internet("igw-1".into()),
            },
        ]),
        security_groups: Ok(vec![
            SecurityGroup {
                id: "sg-other".into(),
                name: "shared".into(),
                vpc: "vpc-default".into(),
            },
            SecurityGroup {
                id: "sg-1".into(),
                name: "shared".into(),
                vpc: "vpc-app".into(),
            },
        ]),
        certificates: Ok(vec![
            Certificate {
                arn: CERT.into(),
                domain: "*.example.com".into(),
                names: vec!["*.example.com".into()],
                status: "ISSUED".into(),
            },
            Certificate {
                arn: "arn:other".into(),
                domain: "other.org".into(),
                names: vec!["other.org".into()],
                status: "ISSUED".into(),
            },
        ]),
        zones: Ok(vec![
            Zone {
                id: "Z1".into(),
                name: "example.com".into(),
                private: false,
            },
            Zone {
                id: "Z2".into(),
                name: "example.com".into(),
                private: true,
            },
            Zone {
                id: "Z3".into(),
                name: "other.org".into(),
                private: false,
            },
        ]),
        parameters: Ok(parameters),
        config: ConfigObject::Text("version: 1.2.1\ncache: true\n".into()),
        permissions: Permissions::NotChecked("moto".into()),
    }
}

fn check<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id}: {checks:#?}"))
}

#[test]
fn a_good_account_passes_and_init_chooses_the_only_candidates() {
    let (checks, choices) = evaluate(&request(), &facts());
    let failed: Vec<_> = checks.iter().filter(|c| c.status == Status::Fail).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let c = choices.expect("choices");
    assert_eq!(c.vpc_id, "vpc-app");
    // Sorted by zone: a before b; the public subnet is not chosen.
    assert_eq!(c.private_subnet_ids, vec!["subnet-a", "subnet-b"]);
    // The stale id is replaced by the group of that name in the chosen VPC.
    assert_eq!(
        c.security_group_ids.get("shared").map(String::as_str),
        Some("sg-1")
    );
    assert_eq!(c.acm_certificate_arn, CERT);
    assert_eq!(c.route53_zone_id, "Z1");
    assert_eq!(c.custom_domain, DOMAIN);
    // The parameters' ARNs in this account, not the ones asked for.
    assert_eq!(
        c.ssm_secrets.get("JWT_SECRET").map(String::as_str),
        Some("arn:aws:ssm:eu-west-1:1:parameter/app/JWT_SECRET")
    );
    assert_eq!(
        (c.config_s3_bucket.as_str(), c.config_s3_key.as_str()),
        ("cfg", "librechat.yaml")
    );
    assert_eq!(check(&checks, "permissions").status, Status::Skipped);
    let vpc = check(&checks, "vpc");
    assert_eq!(vpc.candidates.len(), 2, "every VPC listed: {vpc:?}");
    assert!(vpc.candidates.iter().any(|c| c.id == "vpc-app" && c.chosen));
}

#[test]
fn a_vpc_without_nat_fails_with_the_fix() {
    let mut f = facts();
    f.route_tables.as_mut().unwrap()[2].default_route = Egress::Internet("igw-1".into());
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    let c = check(&checks, "vpc");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.summary
            .contains("no VPC in eu-west-1 has a private subnet that routes to a NAT gateway"),
        "{c:?}"
    );
    assert!(c.fix.as_deref().unwrap().contains("NAT gateway"));
    // Asked for by id: named.
    let mut r = request();
    r.vpc = Some("vpc-app".into());
    let (checks, _) = evaluate(&r, &f);
    assert_eq!(
        check(&checks, "vpc").summary,
        "VPC vpc-app has no private subnet that routes to a NAT gateway"
    );
}

#[test]
fn asked_subnets_must_route_to_the_nat() {
    let mut r = request();
    r.subnets = vec!["subnet-a".into(), "subnet-pub".into()];
    let (checks, choices) = evaluate(&r, &facts());
    assert!(choices.is_none());
    let c = check(&checks, "subnets");
    assert_eq!(c.status, Status::Fail);
    assert!(c.summary.ends_with("subnet-pub"), "{c:?}");
    r.subnets = vec!["subnet-b".into()];
    let (_, choices) = evaluate(&r, &facts());
    assert_eq!(choices.unwrap().private_subnet_ids, vec!["subnet-b"]);
}

#[test]
fn subnets_without_an_association_use_the_main_table() {
    let tables = vec![RouteTable {
        id: "m".into(),
        vpc: "v".into(),
        main: true,
        subnets: vec![],
        default_route: Egress::Nat("n".into()),
    }];
    assert_eq!(
        subnet_egress(&subnet("s", "v", "a"), &tables),
        Egress::Nat("n".into())
    );
    assert_eq!(subnet_egress(&subnet("s", "w", "a"), &tables), Egress::None);
}

#[test]
fn a_domain_without_an_issued_certificate_fails() {
    let mut r = request();
    r.domain = Some("chat.nowhere.net".into());
    let (checks, choices) = evaluate(&r, &facts());
    assert!(choices.is_none());
    let c = check(&checks, "certificate");
    assert_eq!(
        (c.status, c.summary.as_str()),
        (
            Status::Fail,
            "no certificate in us-east-1 covers chat.nowhere.net"
        )
    );
    assert!(
        c.fix.as_deref().unwrap().contains(
            "aws acm request-certificate --region us-east-1 --domain-name chat.nowhere.net"
        )
    );
    assert_eq!(check(&checks, "zone").status, Status::Fail);
    // A pending one is named as such.
    let mut f = facts();
    f.certificates.as_mut().unwrap()[0].status = "PENDING_VALIDATION".into();
    let (checks, _) = evaluate(&request(), &f);
    let c = check(&checks, "certificate");
    assert!(c.summary.contains("not yet ISSUED"), "{c:?}");
    assert_eq!(c.candidates[0].detail, "*.example.com PENDING_VALIDATION");
}

#[test]
fn certificate_names_and_zones_match_like_aws() {
    assert!(name_covers("*.example.com", "chat.example.com"));
    assert!(!name_covers("*.example.com", "a.chat.example.com"));
    assert!(!name_covers("*.example.com", "example.com"));
    assert!(name_covers("Chat.Example.com.", "chat.example.com"));
    assert!(zone_matches("example.com.", "chat.example.com"));
    assert!(zone_matches("example.com", "example.com"));
    assert!(!zone_matches("ample.com", "chat.example.com"));
}

#[test]
fn the_closest_zone_wins() {
    let mut f = facts();
    f.zones.as_mut().unwrap().push(Zone {
        id: "Zc".into(),
        name: "chat.example.com".into(),
        private: false,
    });
    let (_, choices) = evaluate(&request(), &f);
    assert_eq!(choices.unwrap().route53_zone_id, "Zc");
}

#[test]
fn a_missing_or_wrongly_typed_parameter_is_named_without_values() {
    let mut f = facts();
    let p = f.parameters.as_mut().unwrap();
    p.remove("/app/MONGO_URI");
    p.get_mut("/app/JWT_SECRET").unwrap().kind = "StringList".into();
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    let c = check(&checks, "ssm");
    assert_eq!(c.status, Status::Fail);
    assert_eq!(
        c.summary,
        "missing: MONGO_URI (/app/MONGO_URI); wrong type (StringList): JWT_SECRET (/app/JWT_SECRET)"
    );
    // A required secret not in the map at all.
    let mut r = request();
    r.secrets.remove("CREDS_IV");
    let (checks, _) = evaluate(&r, &facts());
    assert_eq!(
        check(&checks, "ssm").summary,
        "not among the secrets: CREDS_IV"
    );
    // A plain String is a warning, not a failure.
    let mut f = facts();
    f.parameters
        .as_mut()
        .unwrap()
        .get_mut("/app/CREDS_KEY")
        .unwrap()
        .kind = "String".into();
    let (checks, choices) = evaluate(&request(), &f);
    assert_eq!(check(&checks, "ssm").status, Status::Warn);
    assert!(choices.is_some());
}

#[test]
fn parameter_names_come_from_arns_or_are_names() {
    assert_eq!(
        parameter_name("arn:aws:ssm:eu-west-1:1:parameter/a/b"),
        "/a/b"
    );
    assert_eq!(parameter_name("/a/b"), "/a/b");
    assert_eq!(parameter_name("plain"), "plain");
}

#[test]
fn the_config_object_must_exist_and_parse() {
    let mut f = facts();
    f.config = ConfigObject::Missing("NoSuchKey".into());
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    assert_eq!(
        check(&checks, "config_object").fix.as_deref(),
        Some("aws s3 cp librechat.yaml s3://cfg/librechat.yaml")
    );
    f.config = ConfigObject::Text("version: [1\n".into());
    let (checks, _) = evaluate(&request(), &f);
    let c = check(&checks, "config_object");
    assert_eq!(c.status, Status::Fail);
    assert!(c.summary.contains("does not parse"), "{c:?}");
    assert!(
        yaml_problem("- a\n- b\n")
            .unwrap()
            .contains("not a mapping")
    );
    assert!(
        yaml_problem("cache: true\n")
            .unwrap()
            .contains("no `version`")
    );
    assert_eq!(yaml_problem("version: 1.2.1\n"), None);
}

#[test]
fn the_files_check_is_the_probes_judge_a_warning_with_the_fix() {
    // facts()'s config sets neither fileStrategy nor limits: LibreChat's defaults.
    let (checks, choices) = evaluate(&request(), &facts());
    assert!(choices.is_some(), "a warning does not block");
    let c = check(&checks, "files");
    assert_eq!(c.status, Status::Warn);
    assert!(c.summary.contains("files_strategy_not_s3"), "{c:?}");
    assert!(c.summary.contains("file_size_limit_too_large"), "{c:?}");
    let fix = c.fix.as_deref().unwrap_or("");
    assert!(fix.contains("`fileStrategy: s3`"), "{fix}");
    assert!(fix.contains("serverFileSizeLimit: 4"), "{fix}");
    let mut f = facts();
    f.config = ConfigObject::Text(
        "version: 1.2.1\nfileStrategy: s3\nfileConfig:\n  serverFileSizeLimit: 4\n  skills: {fileSizeLimit: 4}\n  endpoints:\n    default: {fileSizeLimit: 4}\n    agents: {fileSizeLimit: 4}\n    assistants: {fileSizeLimit: 4}\n    azureAssistants: {fileSizeLimit: 4}\n    anthropic: {fileSizeLimit: 4}\n"
            .into(),
    );
    let (checks, _) = evaluate(&request(), &f);
    let c = check(&checks, "files");
    assert_eq!(c.status, Status::Pass, "{c:?}");
    assert!(
        c.summary
            .contains("fileStrategy s3, largest file limit 4 MB"),
        "{c:?}"
    );
    // Unread: the config_object check says why; no files check.
    f.config = ConfigObject::Unreadable("AccessDenied".into());
    let (checks, _) = evaluate(&request(), &f);
    assert!(checks.iter().all(|c| c.id != "files"));
}

#[test]
fn no_credentials_stop_at_the_first_check() {
    let mut f = facts();
    f.identity = Err("no credentials in the chain".into());
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].status, Status::Fail);
    assert!(checks[0].fix.as_deref().unwrap().contains("aws sso login"));
}

#[test]
fn an_existing_environment_fails_unless_it_is_a_continuation() {
    let mut f = facts();
    f.deployed = vec!["s3://state/dev.tfstate: 12 resources".into()];
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    let c = check(&checks, "existing");
    assert_eq!(c.status, Status::Fail);
    assert!(c.fix.as_deref().unwrap().contains("opsconsole dev"));
    f.resume = true;
    let (checks, choices) = evaluate(&request(), &f);
    assert_eq!(check(&checks, "existing").status, Status::Warn);
    assert!(choices.is_some());
}

#[test]
fn denied_actions_are_named() {
    let mut f = facts();
    f.permissions = Permissions::Simulated {
        checked: 20,
        denied: vec!["iam:CreateRole".into(), "lambda:CreateFunction".into()],
    };
    let (checks, choices) = evaluate(&request(), &f);
    assert!(choices.is_none());
    assert_eq!(
        check(&checks, "permissions").summary,
        "2 of 20 actions apply needs are denied: iam:CreateRole, lambda:CreateFunction"
    );
}
