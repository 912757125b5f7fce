//! `opsconsole init`'s wizard screen in tmux at 80x24 against moto: two VPCs with NAT subnets,
//! so init cannot choose (`vpc` fails, both listed); the operator picks apply-local's VPC in the
//! candidates, the checks pass, `w` writes the variables with that VPC.

use serde_json::Value;

use crate::init::{account_with, add_nat_to, committed_tfvars};
use crate::tui_e2e::Tmux;

#[tokio::test(flavor = "multi_thread")]
async fn the_wizard_at_80x24_lets_the_operator_choose_the_vpc_and_writes() {
    let a = account_with(true, &[("OPSCONSOLE_MOTOEXT", "")]).await;
    // A second VPC with a NAT subnet.
    let ec2 = aws_sdk_ec2::Client::new(&a.sdk().await);
    let vpc2 = ec2
        .create_vpc()
        .cidr_block("10.30.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc2 = vpc2.vpc().unwrap().vpc_id().unwrap().to_string();
    let sub = ec2
        .create_subnet()
        .vpc_id(&vpc2)
        .cidr_block("10.30.1.0/24")
        .availability_zone("eu-west-1b")
        .send()
        .await
        .unwrap();
    let sub = sub.subnet().unwrap().subnet_id().unwrap().to_string();
    add_nat_to(&a, &vpc2, &[sub], "10.30.100.0/24").await;
    let ours = a.prereqs["vpc_id"].as_str().unwrap().to_string();

    let tmp = a.tmp.path();
    let script = tmp.join("wizard.sh");
    let q = |p: &std::path::Path| format!("'{}'", p.display());
    std::fs::write(
        &script,
        format!(
            "export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_CONFIG_FILE={none} \
             AWS_SHARED_CREDENTIALS_FILE={none} AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 \
             HOME={home} XDG_CONFIG_HOME={home} TERM=xterm-256color\n\
             unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_SESSION_TOKEN\n\
             {bin} init dev --endpoint-url {ep} --dir {dir} --from {from} --no-apply 2>{stderr}\n\
             echo \"EXIT=$?\"\nsleep 60\n",
            none = q(&tmp.join("none")),
            home = q(tmp),
            bin = env!("CARGO_BIN_EXE_opsconsole"),
            ep = a.moto.endpoint_url(),
            dir = q(&a.dir()),
            from = q(&committed_tfvars()),
            stderr = q(&tmp.join("stderr")),
        ),
    )
    .unwrap();
    let t = Tmux::start_sized("init-wizard", &script, 80, 24);
    let screen = t.wait_for(&["FAIL vpc", "candidates", "w write"], 60);
    assert!(screen.lines().count() <= 24 && screen.lines().all(|l| l.chars().count() <= 80));
    // To the vpc check (credentials, existing, vpc), into its candidates, onto our VPC.
    t.send(&["Down", "Down", "Tab"]);
    let screen = t.wait_for(&["several VPCs have private subnets"], 10);
    let cand_lines: Vec<&str> = screen.lines().filter(|l| l.contains("vpc-")).collect();
    let index = cand_lines
        .iter()
        .position(|l| l.contains(&ours))
        .unwrap_or_else(|| panic!("{ours} not among the candidates:\n{screen}"));
    for _ in 0..index {
        t.send(&["Down"]);
    }
    t.send(&["Enter"]);
    let screen = t.wait_for(&["vpc: chosen, checks judged again", "ok   vpc"], 10);
    assert!(screen.contains(&format!("* {ours}")), "{screen}");
    eprintln!("the wizard after the choice (80x24):\n{screen}");
    // Nothing is written before `w`.
    assert!(!a.dir().join("terraform.tfvars.json").exists());
    t.send(&["w"]);
    t.wait_for(&["EXIT=0"], 30);
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(a.dir().join("terraform.tfvars.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["vpc_id"], ours.as_str());
    assert_eq!(
        written["private_subnet_ids"],
        a.prereqs["private_subnet_ids"]
    );
}
