//! Property tests: the event parser (and the other input parsers) never panic, whatever comes in.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shim::event::{Limits, parse_event};

const KEYS: &[&str] = &[
    "version",
    "rawPath",
    "rawQueryString",
    "httpMethod",
    "path",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "body",
    "isBase64Encoded",
    "requestContext",
    "stage",
    "http",
    "method",
    "sourceIp",
    "identity",
    "cookies",
    "Host",
    "Connection",
    "x-opsconsole-token",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        ".{0,40}".prop_map(Value::String),
        prop_oneof![
            Just("GET"),
            Just("POST"),
            Just("2.0"),
            Just("/api/x"),
            Just("$default"),
            Just("AAEC/w==")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(KEYS).prop_map(str::to_string),
                        ".{0,12}"
                    ],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_event_never_panics(v in json_value()) {
        let _ = parse_event(&v, Limits::default());
        let _ = parse_event(&v, Limits { max_header_value: 3, max_header_total: 10 });
    }

    #[test]
    fn event_shaped_values_never_panic(
        method in ".{0,8}", path in ".{0,30}", body in ".{0,30}", b64 in any::<bool>(),
        hname in ".{0,10}", hval in ".{0,20}", qk in ".{0,6}", qv in ".{0,6}", stage in ".{0,6}",
        v2 in any::<bool>(),
    ) {
        let ev = if v2 {
            json!({"version": "2.0", "rawPath": path, "rawQueryString": qk, "headers": {hname: hval},
                   "cookies": [qv], "requestContext": {"stage": stage, "http": {"method": method}},
                   "body": body, "isBase64Encoded": b64})
        } else {
            json!({"httpMethod": method, "path": path, "multiValueHeaders": {hname: [hval]},
                   "multiValueQueryStringParameters": {qk: [qv]},
                   "requestContext": {"stage": stage, "path": path}, "body": body, "isBase64Encoded": b64})
        };
        if let Ok(req) = parse_event(&ev, Limits::default()) {
            // Whatever is accepted forms a valid request URI.
            let uri = format!("http://h{}", req.path_and_query());
            prop_assert!(http::Uri::try_from(uri.as_str()).is_ok(), "invalid uri {}", uri);
        }
    }

    #[test]
    fn raw_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
            let _ = parse_event(&v, Limits::default());
        }
        let s = String::from_utf8_lossy(&bytes);
        let _ = opsconsole_wire::sse::SseParams::from_query(&s);
        let _ = shim::coldstart::parse_secret_spec(&s);
    }
}
