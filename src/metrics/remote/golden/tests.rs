use super::super::parse;
use super::*;
use crate::config::endpoints::{Auth, PrometheusCompat, PrometheusConfig};

fn series(json: &str) -> InstantSeries {
    let body =
        format!(r#"{{"status":"success","data":{{"resultType":"vector","result":[{json}]}}}}"#);
    parse::instant(body.as_bytes()).unwrap().0
}

fn key(cluster: ClusterId, ns: &str, name: &str) -> (ClusterId, ObjKey) {
    (cluster, ObjKey::new(ns, name))
}

/// What Prometheus's `label_replace` does with [`WORKLOAD_FROM_POD`]: the regex anchored at
/// both ends, `$1` on a match.
fn workload_of(pod: &str) -> Option<String> {
    let re = regex::Regex::new(&format!("^(?:{WORKLOAD_FROM_POD})$")).unwrap();
    re.captures(pod).map(|c| c[1].to_string())
}

#[test]
fn the_workload_regex_reads_deployment_pods_and_only_them() {
    for (pod, workload) in [
        ("arq-backend-7d9f8b6c5d-x7k2p", "arq-backend"),
        // A hash of one digit's encoding and of ten.
        ("web-b-4tq9z", "web"),
        ("api-gateway-5d4c8b7f96-2xz7q", "api-gateway"),
        // Greedy, but the last two dashes are the hash's and the suffix's.
        ("a-b-c-6bd5f9d7c4-mnl8w", "a-b-c"),
    ] {
        assert_eq!(workload_of(pod).as_deref(), Some(workload), "{pod}");
    }
    for pod in [
        "postgres-0",             // StatefulSet
        "kube-proxy-x7k2p",       // DaemonSet: `proxy` has a vowel
        "node-exporter-7xq2b",    // DaemonSet
        "migrate-28472940-x7k2p", // CronJob's Job: minutes with a 0
        "web-7d9f8b6c5d-x7k2",    // a suffix of 4
        "web-7d9f8b6c5dd-x7k2p",  // a hash of 11
        "web-7d9f8b6c5d-x7k2a",   // `a` is not in the alphabet
        "-7d9f8b6c5d-x7k2p",      // no deployment name
    ] {
        assert_eq!(workload_of(pod), None, "{pod}");
    }
}

#[test]
fn the_queries_name_the_window_and_group_alike_on_both_sides_of_or() {
    let q = queries(Duration::from_secs(30));
    assert_eq!(
        q.requests,
        format!(
            r#"sum by (cluster, namespace, workload, code) (label_replace(rate(http_requests_total[30s]), "workload", "$1", "pod", "{WORKLOAD_FROM_POD}"))"#
        )
    );
    assert!(q.p95.starts_with(
        "histogram_quantile(0.95, sum by (cluster, namespace, workload, le) (label_replace(rate(http_request_duration_seconds_bucket[30s])"
    ));
    assert_eq!(
        q.cpu,
        r#"sum by (cluster, namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[30s])) or sum by (cluster, namespace, pod) (rate(process_cpu_seconds_total[30s]))"#
    );
    assert_eq!(
        q.memory,
        r#"sum by (cluster, namespace, pod) (container_memory_working_set_bytes{container!="",container!="POD"}) or sum by (cluster, namespace, pod) (process_resident_memory_bytes)"#
    );
    assert!(
        queries(Duration::from_millis(1500))
            .cpu
            .contains("[1500ms]")
    );
    assert!(queries(Duration::ZERO).cpu.contains("[1ms]"));
}

#[test]
fn series_are_placed_by_cluster_label_or_the_only_cluster() {
    let one = [(3, "prod-eastus".to_string())];
    let two = [
        (0, "prod-eastus".to_string()),
        (1, "prod-westus".to_string()),
    ];
    let labels = |pairs: &[(&str, &str)]| -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let bare = labels(&[("namespace", "arq"), ("pod", "p")]);
    let west = labels(&[
        ("cluster", "prod-westus"),
        ("namespace", "arq"),
        ("pod", "p"),
    ]);
    let other = labels(&[("cluster", "staging"), ("namespace", "arq"), ("pod", "p")]);
    let empty = labels(&[("cluster", ""), ("namespace", "arq"), ("pod", "p")]);

    let places = Places::new(&one);
    assert_eq!(places.place(&bare, "pod"), Some(key(3, "arq", "p")));
    assert_eq!(
        places.cluster(&empty),
        Some(3),
        "an empty label is no label"
    );
    assert_eq!(
        places.cluster(&west),
        None,
        "not this environment's context"
    );
    assert_eq!(places.place(&bare, "workload"), None, "no workload label");

    let places = Places::new(&two);
    assert_eq!(places.cluster(&bare), None, "which of the two is unknown");
    assert_eq!(places.place(&west, "pod"), Some(key(1, "arq", "p")));
    assert_eq!(places.cluster(&other), None);
    assert_eq!(Places::new(&[]).cluster(&bare), None);
}

#[test]
fn workloads_fold_rate_ratio_and_p95() {
    let clusters = [
        (0, "prod-eastus".to_string()),
        (1, "prod-westus".to_string()),
    ];
    let places = Places::new(&clusters);
    let requests = series(
        r#"
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"arq-backend","code":"200"},"value":[1,"9"]},
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"arq-backend","code":"503"},"value":[1,"0.75"]},
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"arq-backend","code":"500"},"value":[1,"0.25"]},
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"arq-backend","code":"5xx"},"value":[1,"NaN"]},
        {"metric":{"cluster":"prod-westus","namespace":"arq","workload":"arq-backend","code":"200"},"value":[1,"0"]},
        {"metric":{"cluster":"prod-westus","namespace":"arq","workload":"arq-backend","code":"50"},"value":[1,"2"]},
        {"metric":{"cluster":"prod-eastus","namespace":"arq","code":"200"},"value":[1,"4"]},
        {"metric":{"namespace":"arq","workload":"arq-backend","code":"200"},"value":[1,"4"]}
        "#,
    );
    let p95 = series(
        r#"
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"arq-backend"},"value":[1,"0.2"]},
        {"metric":{"cluster":"prod-westus","namespace":"arq","workload":"arq-backend"},"value":[1,"NaN"]},
        {"metric":{"cluster":"prod-westus","namespace":"ops","workload":"cron"},"value":[1,"+Inf"]},
        {"metric":{"cluster":"prod-westus","namespace":"web","workload":"front"},"value":[1,"0.05"]}
        "#,
    );
    let out = fold_workloads(&places, &requests, &p95);
    assert_eq!(
        out.get(&key(0, "arq", "arq-backend")),
        Some(&Golden {
            rate: Some(10.0),
            error_ratio: Some(0.1),
            p95: Some(0.2)
        })
    );
    // `50` is not a 5xx code; NaN p95 is no value.
    assert_eq!(
        out.get(&key(1, "arq", "arq-backend")),
        Some(&Golden {
            rate: Some(2.0),
            error_ratio: Some(0.0),
            p95: None
        })
    );
    assert_eq!(
        out.get(&key(1, "web", "front")),
        Some(&Golden {
            rate: None,
            error_ratio: None,
            p95: Some(0.05)
        })
    );
    // No workload label (a pod of no Deployment), no cluster label with two clusters, +Inf.
    assert_eq!(out.len(), 3, "{out:?}");
}

#[test]
fn no_traffic_has_no_ratio_and_p95s_meeting_under_one_key_keep_the_higher() {
    let clusters = [(0, "prod-eastus".to_string())];
    let places = Places::new(&clusters);
    let requests =
        series(r#"{"metric":{"namespace":"arq","workload":"idle","code":"200"},"value":[1,"0"]}"#);
    let p95 = series(
        r#"
        {"metric":{"namespace":"arq","workload":"w"},"value":[1,"0.1"]},
        {"metric":{"cluster":"prod-eastus","namespace":"arq","workload":"w"},"value":[1,"0.3"]},
        {"metric":{"namespace":"arq","workload":"w","x":"y"},"value":[1,"0.2"]}
        "#,
    );
    let out = fold_workloads(&places, &requests, &p95);
    assert_eq!(
        out.get(&key(0, "arq", "idle")),
        Some(&Golden {
            rate: Some(0.0),
            error_ratio: None,
            p95: None
        })
    );
    assert_eq!(out.get(&key(0, "arq", "w")).and_then(|g| g.p95), Some(0.3));
}

#[test]
fn pods_fold_cpu_and_memory() {
    let clusters = [(0, "prod-eastus".to_string())];
    let places = Places::new(&clusters);
    let cpu = series(
        r#"
        {"metric":{"namespace":"arq","pod":"a-7d9f8-x7k2p"},"value":[1,"0.25"]},
        {"metric":{"namespace":"arq","pod":"b-7d9f8-x7k2p"},"value":[1,"NaN"]},
        {"metric":{"namespace":"arq"},"value":[1,"1"]}
        "#,
    );
    let memory = series(
        r#"
        {"metric":{"namespace":"arq","pod":"a-7d9f8-x7k2p"},"value":[1,"1048576"]},
        {"metric":{"namespace":"arq","pod":"b-7d9f8-x7k2p"},"value":[1,"2048"]},
        {"metric":{"cluster":"elsewhere","namespace":"arq","pod":"c"},"value":[1,"1"]}
        "#,
    );
    let out = fold_pods(&places, &cpu, &memory);
    assert_eq!(
        out.get(&key(0, "arq", "a-7d9f8-x7k2p")),
        Some(&Usage {
            cpu: Some(0.25),
            memory: Some(1_048_576.0)
        })
    );
    assert_eq!(
        out.get(&key(0, "arq", "b-7d9f8-x7k2p")),
        Some(&Usage {
            cpu: None,
            memory: Some(2048.0)
        })
    );
    assert_eq!(out.len(), 2);
}

/// A Prometheus on loopback answering each query by its shape, once per connection.
async fn fake_prometheus(fail_cpu: bool) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let target = head.split(' ').nth(1).unwrap_or("/").to_string();
                let url = url::Url::parse(&format!("http://x{target}")).unwrap();
                let query: String = url
                    .query_pairs()
                    .find(|(k, _)| k == "query")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                let time_given = url
                    .query_pairs()
                    .any(|(k, v)| k == "time" && v == "1700000000.000");
                let result = if !time_given {
                    "bad"
                } else if query.contains("by (cluster, namespace, workload, code)") {
                    r#"{"metric":{"namespace":"arq","workload":"arq-backend","code":"200"},"value":[1700000000,"3"]},
                       {"metric":{"namespace":"arq","workload":"arq-backend","code":"502"},"value":[1700000000,"1"]}"#
                } else if query.starts_with("histogram_quantile") {
                    r#"{"metric":{"namespace":"arq","workload":"arq-backend"},"value":[1700000000,"0.12"]}"#
                } else if query.contains("container_cpu_usage_seconds_total") {
                    if fail_cpu {
                        "bad"
                    } else {
                        r#"{"metric":{"namespace":"arq","pod":"arq-backend-6bd5f-x7k2p"},"value":[1700000000,"0.5"]}"#
                    }
                } else {
                    r#"{"metric":{"namespace":"arq","pod":"arq-backend-6bd5f-x7k2p"},"value":[1700000000,"1024"]}"#
                };
                let (status, body) = if result == "bad" {
                    (
                        "400 Bad Request",
                        r#"{"status":"error","errorType":"bad_data","error":"no"}"#.to_string(),
                    )
                } else {
                    (
                        "200 OK",
                        format!(
                            r#"{{"status":"success","data":{{"resultType":"vector","result":[{result}]}}}}"#
                        ),
                    )
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/")
}

fn client(url: &str) -> PromClient {
    let config = PrometheusConfig {
        environment: "prod".into(),
        url: url.parse().unwrap(),
        auth: Auth::None,
        compat: PrometheusCompat::V3,
    };
    PromClient::new(&config, crate::metrics::scrape::http_client().unwrap()).unwrap()
}

#[tokio::test]
async fn golden_asks_four_queries_at_the_time_given_and_folds_them() {
    let url = fake_prometheus(false).await;
    let at: Timestamp = "2023-11-14T22:13:20Z".parse().unwrap();
    let clusters = [(2, "prod-eastus".to_string())];
    let out = golden(&client(&url), &clusters, at, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(
        out.workloads.get(&key(2, "arq", "arq-backend")),
        Some(&Golden {
            rate: Some(4.0),
            error_ratio: Some(0.25),
            p95: Some(0.12)
        })
    );
    assert_eq!(
        out.pods.get(&key(2, "arq", "arq-backend-6bd5f-x7k2p")),
        Some(&Usage {
            cpu: Some(0.5),
            memory: Some(1024.0)
        })
    );

    // One failing query fails the whole, with Prometheus's own words.
    let url = fake_prometheus(true).await;
    let err = golden(&client(&url), &clusters, at, Duration::from_secs(30))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "prometheus.prod: bad_data: no");
}
