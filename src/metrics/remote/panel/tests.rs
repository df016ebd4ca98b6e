use std::sync::{Arc, Mutex};

use super::super::golden::WORKLOAD_FROM_POD;
use super::*;
use crate::config::endpoints::{Auth, PrometheusCompat, PrometheusConfig};

fn key(ns: &str, name: &str) -> ObjKey {
    ObjKey::new(ns, name)
}

/// What Prometheus does with a `pod=~"…"` matcher's string: unquote it, anchor the regex.
fn pod_regex(sel: &str) -> regex::Regex {
    let quoted = sel.split(r#"pod=~""#).nth(1).unwrap();
    let quoted = quoted.strip_suffix('"').unwrap();
    let unquoted = quoted.replace(r#"\""#, "\"").replace(r"\\", r"\");
    regex::Regex::new(&format!("^(?:{unquoted})$")).unwrap()
}

#[test]
fn the_pod_alphabet_is_the_one_golden_derives_workloads_with() {
    assert_eq!(
        WORKLOAD_FROM_POD,
        format!("(.+)-{POD_ALPHABET}{{1,10}}-{POD_ALPHABET}{{5}}")
    );
}

#[test]
fn selectors_pick_a_pod_by_name_and_a_workload_by_its_pods_names() {
    assert_eq!(
        selector("", Kind::Pod, &key("arq", "arq-backend-6bd5f-x7k2p")),
        r#"namespace="arq",pod="arq-backend-6bd5f-x7k2p""#
    );
    let sel = selector(
        r#"cluster="west","#,
        Kind::Deployment,
        &key("arq", "arq-backend"),
    );
    assert_eq!(
        sel,
        format!(
            r#"cluster="west",namespace="arq",pod=~"arq\\-backend-{POD_ALPHABET}{{1,10}}-{POD_ALPHABET}{{5}}""#
        )
    );
    let re = pod_regex(&sel);
    assert!(re.is_match("arq-backend-6bd5f9d7c4-x7k2p"));
    assert!(re.is_match("arq-backend-b-4tq9z"));
    for other in [
        "arq-backend-api-6bd5f9d7c4-x7k2p", // another Deployment's pod
        "arq-backend-0",                    // a StatefulSet's
        "arq-backend-6bd5f9d7c4-x7k2",      // a suffix of 4
        "xarq-backend-6bd5f9d7c4-x7k2p",
    ] {
        assert!(!re.is_match(other), "{other}");
    }
}

#[test]
fn names_are_escaped_as_regex_and_as_promql_strings() {
    // Not valid Kubernetes names, but the selector must stay one selector whatever it is given.
    let odd = r#"a.b"c\d"#;
    let sel = selector("", Kind::Pod, &key(r#"n"s"#, odd));
    assert_eq!(sel, r#"namespace="n\"s",pod="a.b\"c\\d""#);
    let sel = selector("", Kind::Deployment, &key("ns", odd));
    assert!(sel.contains(r#"pod=~"a\\.b\"c\\\\d-["#), "{sel}");
    let re = pod_regex(&sel);
    assert!(re.is_match(r#"a.b"c\d-6bd5f-x7k2p"#));
    assert!(!re.is_match(r#"aXb"c\d-6bd5f-x7k2p"#), "the dot is literal");
    assert_eq!(quote("l1\nl2\t"), r"l1\nl2\t");
}

#[test]
fn the_cluster_is_matched_as_golden_places_series() {
    let one = [(3, "prod-eastus".to_string())];
    let two = [
        (0, "prod-eastus".to_string()),
        (1, "prod.westus".to_string()),
    ];
    // One cluster: its series with no `cluster` label, or with its own context.
    assert_eq!(
        cluster_matcher(&one, 3).as_deref(),
        Some(r#"cluster=~"|prod\\-eastus","#)
    );
    // Several: only the labelled ones, the context taken literally.
    assert_eq!(
        cluster_matcher(&two, 1).as_deref(),
        Some(r#"cluster="prod.westus","#)
    );
    assert_eq!(cluster_matcher(&two, 7), None);
    assert_eq!(cluster_matcher(&[], 0), None);
}

#[test]
fn the_queries_aggregate_to_one_series_and_name_the_window() {
    let q = queries("S", Kind::Deployment, Duration::from_secs(30));
    assert_eq!(
        q.requests,
        "sum by (code) (rate(http_requests_total{S}[30s]))"
    );
    assert_eq!(
        q.p95,
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{S}[30s])))"
    );
    assert_eq!(
        q.restarts,
        "sum(kube_pod_container_status_restarts_total{S})"
    );
    assert_eq!(
        (q.cpu, q.memory),
        (None, None),
        "no usage rows for a workload"
    );
    let q = queries("S", Kind::Pod, Duration::from_millis(1500));
    assert_eq!(
        q.cpu.as_deref(),
        Some(
            r#"sum(rate(container_cpu_usage_seconds_total{S,container!="",container!="POD"}[1500ms])) or sum(rate(process_cpu_seconds_total{S}[1500ms]))"#
        )
    );
    assert_eq!(
        q.memory.as_deref(),
        Some(
            r#"sum(container_memory_working_set_bytes{S,container!="",container!="POD"}) or sum(process_resident_memory_bytes{S})"#
        )
    );
}

#[test]
fn the_grid_is_the_local_panels_and_samples_land_on_it() {
    let now = 1_700_000_000_000;
    let g = Grid::new(300, now);
    assert_eq!(g.step_ms, 5000);
    assert_eq!(g.start_ms, now - 300_000 + 5000);
    assert_eq!(g.end_ms(), now);
    assert_eq!(g.index(g.start_ms), Some(0));
    assert_eq!(g.index(now), Some(PANEL_POINTS - 1));
    assert_eq!(
        g.index(now - 5000 + 2499),
        Some(58),
        "off by less than half a step"
    );
    assert_eq!(g.index(now + 2500), None, "after the window");
    assert_eq!(g.index(g.start_ms - 2501), None, "before it");
    assert_eq!(g.index(i64::MIN), None);
    // A window shorter than the points: a step of 1 ms, never 0.
    assert_eq!(Grid::new(0, now).step_ms, 1);
    let far = Grid::new(u64::MAX, i64::MAX);
    assert!(far.step_ms > 0);
    let _ = far.index(0);

    let a = vec![(now, 1.0), (now - 5000, f64::NAN), (now - 10_000, 2.0)];
    let b = vec![(now, 0.5), (now - 5000, f64::INFINITY), (now + 60_000, 9.0)];
    let p = g.points([&a, &b], sum);
    assert_eq!(p.len(), PANEL_POINTS);
    assert_eq!(p[59], Some(1.5));
    assert_eq!(p[58], None, "NaN and Inf are no value");
    assert_eq!(p[57], Some(2.0));
    assert_eq!(p.iter().filter(|v| v.is_some()).count(), 2);
    assert_eq!(g.points([&a, &b], f64::max)[59], Some(1.0));
}

#[test]
fn the_5xx_ratio_is_folded_from_the_codes_and_only_where_there_is_traffic() {
    let now = 1_700_000_000_000;
    let g = Grid::new(300, now);
    let code = |c: &str| vec![("code".to_string(), c.to_string())];
    let by_code: RangeSeries = vec![
        (
            code("200"),
            vec![(now - 10_000, 0.0), (now - 5000, 4.0), (now, 3.0)],
        ),
        (code("503"), vec![(now, 0.5)]),
        (code("500"), vec![(now, 0.5)]),
        (code("50"), vec![(now - 5000, 1.0)]),
    ];
    let (rate, ratio) = requests_rows(&g, &by_code);
    assert_eq!(&rate[57..], &[Some(0.0), Some(5.0), Some(4.0)]);
    assert_eq!(&ratio[57..], &[None, Some(0.0), Some(0.25)]);
    assert_eq!(rate[0], None);
    assert_eq!(ratio[0], None);
}

type Answer = fn(&str) -> Option<&'static str>;

/// A Prometheus on loopback answering range queries over 2023-11-14T22:13:20Z's 300 s window
/// (any other window is an error) with `answer`'s result for each query (None: an error); every
/// query asked is kept in the returned list.
async fn fake_prometheus(answer: Answer) -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let asked = Arc::new(Mutex::new(Vec::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let kept = asked.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let kept = kept.clone();
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
                let param = |name: &str| {
                    url.query_pairs()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                };
                let query = param("query");
                kept.lock().unwrap().push(query.clone());
                let on_grid = url.path() == "/api/v1/query_range"
                    && param("start") == "1699999705.000"
                    && param("end") == "1700000000.000"
                    && param("step") == "5";
                let (status, body) = match answer(&query).filter(|_| on_grid) {
                    Some(result) => (
                        "200 OK",
                        format!(
                            r#"{{"status":"success","data":{{"resultType":"matrix","result":[{result}]}}}}"#
                        ),
                    ),
                    None => (
                        "400 Bad Request",
                        r#"{"status":"error","errorType":"bad_data","error":"no"}"#.to_string(),
                    ),
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}/"), asked)
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

fn full(query: &str) -> Option<&'static str> {
    Some(if query.starts_with("sum by (code)") {
        r#"{"metric":{"code":"200"},"values":[[1699999990,"0"],[1699999995,"3"],[1700000000,"3"]]},
           {"metric":{"code":"502"},"values":[[1700000000,"1"]]}"#
    } else if query.starts_with("histogram_quantile") {
        r#"{"metric":{},"values":[[1699999995,"NaN"],[1700000000,"0.12"]]}"#
    } else if query.contains("container_cpu_usage_seconds_total") {
        r#"{"metric":{},"values":[[1700000000,"0.5"]]}"#
    } else if query.contains("container_memory_working_set_bytes") {
        r#"{"metric":{},"values":[[1700000000,"1024"]]}"#
    } else {
        r#"{"metric":{},"values":[[1699999705,"2"],[1700000000,"3"]]}"#
    })
}

fn at() -> Timestamp {
    "2023-11-14T22:13:20Z".parse().unwrap()
}

const WINDOW: Duration = Duration::from_secs(30);

fn row<'p>(p: &'p Panel, label: &str) -> &'p PanelRow {
    p.rows
        .iter()
        .find(|r| r.label == label)
        .unwrap_or_else(|| panic!("no {label} row in {p:?}"))
}

#[tokio::test]
async fn a_pod_panel_asks_five_range_queries_on_the_grid() {
    let (url, asked) = fake_prometheus(full).await;
    let clusters = [(2, "prod-eastus".to_string())];
    let pod = key("arq", "arq-backend-6bd5f-x7k2p");
    let p = panel(
        &client(&url),
        &clusters,
        2,
        Kind::Pod,
        &pod,
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap();
    assert_eq!(
        (p.cluster, p.kind, &p.key, p.window_secs),
        (2, Kind::Pod, &pod, 300)
    );
    let labels: Vec<_> = p.rows.iter().map(|r| (r.label, r.unit)).collect();
    assert_eq!(
        labels,
        [
            ("requests/s", Unit::Rps),
            ("5xx ratio", Unit::Ratio),
            ("p95 latency", Unit::Seconds),
            ("cpu", Unit::Cores),
            ("memory", Unit::Bytes),
            ("restarts", Unit::Count),
        ]
    );
    assert!(p.rows.iter().all(|r| r.points.len() == PANEL_POINTS));
    assert_eq!(
        &row(&p, "requests/s").points[57..],
        &[Some(0.0), Some(3.0), Some(4.0)]
    );
    assert_eq!(
        &row(&p, "5xx ratio").points[57..],
        &[None, Some(0.0), Some(0.25)]
    );
    assert_eq!(&row(&p, "p95 latency").points[58..], &[None, Some(0.12)]);
    assert_eq!(row(&p, "cpu").last(), Some(0.5));
    assert_eq!(row(&p, "memory").last(), Some(1024.0));
    assert_eq!(row(&p, "restarts").points[0], Some(2.0));
    assert_eq!(p.empty_reason, None);
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 5, "{asked:?}");
    for q in &asked {
        assert!(
            q.contains(
                r#"cluster=~"|prod\\-eastus",namespace="arq",pod="arq-backend-6bd5f-x7k2p""#
            ),
            "{q}"
        );
    }
}

#[tokio::test]
async fn a_workload_panel_has_no_usage_rows_and_matches_one_cluster_of_several() {
    let (url, asked) = fake_prometheus(full).await;
    let clusters = [
        (0, "prod-eastus".to_string()),
        (1, "prod-westus".to_string()),
    ];
    let workload = key("arq", "arq-backend");
    let p = panel(
        &client(&url),
        &clusters,
        1,
        Kind::Deployment,
        &workload,
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap();
    let labels: Vec<_> = p.rows.iter().map(|r| r.label).collect();
    assert_eq!(
        labels,
        ["requests/s", "5xx ratio", "p95 latency", "restarts"]
    );
    let asked = asked.lock().unwrap().clone();
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert!(
        asked
            .iter()
            .all(|q| q.contains(r#"{cluster="prod-westus",namespace="arq",pod=~"arq\\-backend-["#)),
        "{asked:?}"
    );
}

#[tokio::test]
async fn empty_rows_are_dropped_and_the_panel_says_why() {
    let clusters = [(0, "prod-eastus".to_string())];
    let pod = key("arq", "p");
    let (url, _) = fake_prometheus(|_| Some("")).await;
    let p = panel(
        &client(&url),
        &clusters,
        0,
        Kind::Pod,
        &pod,
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap();
    assert!(p.rows.is_empty());
    assert_eq!(
        p.empty_reason.as_deref(),
        Some("prometheus.prod has no series of this pod in the window")
    );

    let (url, _) = fake_prometheus(|q| {
        Some(if q.contains("restarts") {
            r#"{"metric":{},"values":[[1700000000,"1"]]}"#
        } else {
            r#"{"metric":{},"values":[[1700000000,"NaN"]]}"#
        })
    })
    .await;
    let p = panel(
        &client(&url),
        &clusters,
        0,
        Kind::Pod,
        &pod,
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap();
    assert_eq!(
        p.rows.iter().map(|r| r.label).collect::<Vec<_>>(),
        ["restarts"]
    );
    assert_eq!(
        p.empty_reason.as_deref(),
        Some("no HTTP request or process metrics of this pod in prometheus.prod")
    );

    // A cluster the environment does not have: nothing asked.
    let (url, asked) = fake_prometheus(full).await;
    let p = panel(
        &client(&url),
        &clusters,
        5,
        Kind::Pod,
        &pod,
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap();
    assert!(p.rows.is_empty() && asked.lock().unwrap().is_empty());
    assert!(p.empty_reason.unwrap().contains("does not cover"));
}

#[tokio::test]
async fn one_failing_query_fails_the_panel_with_prometheus_words() {
    let (url, _) = fake_prometheus(|q| {
        if q.starts_with("histogram_quantile") {
            None
        } else {
            full(q)
        }
    })
    .await;
    let clusters = [(0, "prod-eastus".to_string())];
    let err = panel(
        &client(&url),
        &clusters,
        0,
        Kind::Deployment,
        &key("arq", "w"),
        300,
        WINDOW,
        at(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.to_string(), "prometheus.prod: bad_data: no");
}
