//! The sandbox's outputs file: the `terraform output -json` shape of docs/contracts.md section 1,
//! pointing at the local stand-ins.

use serde_json::{Value, json};

use super::alarms::{ALARMS, CANARY_ALARMS};
use super::seed::Names;

/// Where the stand-ins listen.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    /// The CloudFront/API Gateway stand-in, `http://127.0.0.1:PORT` (no trailing slash).
    pub site_url: String,
    pub distribution_id: String,
    pub distribution_domain: String,
    pub redis_host: String,
    pub redis_port: u16,
}

fn out(value: Value, ty: Value) -> Value {
    json!({ "value": value, "type": ty, "sensitive": false })
}

/// The type `terraform output -json` gives a list of `{name, region}` built with `concat` or
/// `flatten`: a tuple of `n` objects (not `list(object)`).
fn alarm_list_type(n: usize) -> Value {
    let object = json!(["object", {"name": "string", "region": "string"}]);
    json!(["tuple", vec![object; n]])
}

/// The outputs document (contracts section 1).
pub(crate) fn outputs_json(n: &Names, e: &Endpoints) -> Value {
    let s = |v: &str| out(json!(v), json!("string"));
    // In Terraform's order: modules/monitoring's `alarms` output lists the regional alarms
    // (for_each: sorted by key), then the us-east-1 one.
    let mut ordered: Vec<_> = ALARMS.iter().collect();
    ordered.sort_by_key(|a| (a.us_east_1, a.suffix));
    let alarms: Vec<Value> = ordered
        .iter()
        .map(|a| {
            json!({
                "name": n.alarm_name(a.suffix),
                "region": if a.us_east_1 { "us-east-1" } else { n.region.as_str() },
            })
        })
        .collect();
    // modules/canary is enabled by default in environments/dev: its 2 alarms, home region.
    let canary_alarms: Vec<Value> = CANARY_ALARMS
        .iter()
        .map(|a| json!({"name": n.alarm_name(a.suffix), "region": n.region}))
        .collect();
    let (alarms_type, canary_type) = (
        alarm_list_type(alarms.len()),
        alarm_list_type(canary_alarms.len()),
    );
    json!({
        "site_url": s(&e.site_url),
        "region": s(&n.region),
        "cloudfront_distribution_id": s(&e.distribution_id),
        "cloudfront_domain_name": s(&e.distribution_domain),
        "api_gateway_id": s(&n.api_id),
        "api_gateway_stage": s(&n.stage),
        "api_gateway_invoke_url": s(&format!("{}/{}", e.site_url, n.stage)),
        "lambda_function_name": s(&n.function),
        "lambda_function_arn": s(&n.function_arn()),
        "lambda_log_group_name": s(&n.log_group),
        "ecr_repository_url": s(&n.ecr_repository_url),
        "redis_replication_group_id": s(&n.redis_group),
        "redis_endpoint": s(&e.redis_host),
        "redis_port": out(json!(e.redis_port), json!("number")),
        "frontend_bucket_name": s(&n.frontend_bucket),
        "files_bucket_name": s(&n.files_bucket),
        "alarms": out(json!(alarms), alarms_type),
        "canary_alarms": out(json!(canary_alarms), canary_type),
        "dashboard_name": s(&n.dashboard),
        "shim_metrics_namespace": s(&n.shim_namespace),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_have_every_contract_output_in_terraform_shape() {
        let n = Names::new("sandbox", "eu-west-1");
        let e = Endpoints {
            site_url: "http://127.0.0.1:4000".into(),
            distribution_id: "E123".into(),
            distribution_domain: "d1.cloudfront.net".into(),
            redis_host: "127.0.0.1".into(),
            redis_port: 6390,
        };
        let v = outputs_json(&n, &e);
        let required = [
            "site_url",
            "region",
            "cloudfront_distribution_id",
            "cloudfront_domain_name",
            "api_gateway_id",
            "api_gateway_stage",
            "api_gateway_invoke_url",
            "lambda_function_name",
            "lambda_function_arn",
            "lambda_log_group_name",
            "ecr_repository_url",
            "redis_replication_group_id",
            "redis_endpoint",
            "redis_port",
            "frontend_bucket_name",
            "files_bucket_name",
            "alarms",
            "dashboard_name",
            "shim_metrics_namespace",
            "canary_alarms",
        ];
        for k in required {
            assert!(v[k].get("value").is_some(), "missing output {k}");
            assert_eq!(v[k]["sensitive"], false, "{k}");
        }
        assert_eq!(v["redis_port"]["value"], 6390);
        assert_eq!(
            v["lambda_log_group_name"]["value"],
            "/aws/lambda/librechat-sandbox-api"
        );
        let alarms = v["alarms"]["value"].as_array().expect("alarms list");
        assert_eq!(alarms.len(), 10);
        // Terraform's order: the regional alarms by name, then CloudFront's
        assert_eq!(alarms[0]["name"], "librechat-sandbox-apigw-5xx");
        assert_eq!(alarms[9]["name"], "librechat-sandbox-cloudfront-5xx-rate");
        assert_eq!(v["alarms"]["type"][0], "tuple");
        assert_eq!(v["alarms"]["type"][1].as_array().map(Vec::len), Some(10));
        let cf = alarms
            .iter()
            .find(|a| a["name"] == "librechat-sandbox-cloudfront-5xx-rate")
            .expect("cloudfront alarm");
        assert_eq!(cf["region"], "us-east-1");
        assert!(alarms.iter().filter(|a| a["region"] == "eu-west-1").count() == 9);
        let canary: Vec<&Value> = v["canary_alarms"]["value"]
            .as_array()
            .expect("canary_alarms list")
            .iter()
            .map(|a| &a["name"])
            .collect();
        assert_eq!(
            canary,
            [
                "librechat-sandbox-probe-unhealthy",
                "librechat-sandbox-sse-buffered"
            ]
        );
    }
}
