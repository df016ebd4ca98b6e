use super::*;

#[test]
fn targets_are_urls_or_namespace_pod_port() {
    assert!(matches!(
        parse_target("http://127.0.0.1:9100/metrics"),
        Ok(TargetArg::Url(_))
    ));
    assert_eq!(
        parse_target("shop/api-7f9c4-x2kqd:9187"),
        Ok(TargetArg::Pod {
            namespace: "shop".into(),
            pod: "api-7f9c4-x2kqd".into(),
            port: Some("9187".into()),
        })
    );
    assert_eq!(
        parse_target("shop/api"),
        Ok(TargetArg::Pod {
            namespace: "shop".into(),
            pod: "api".into(),
            port: None,
        })
    );
    for bad in ["api", "Shop/API", "shop/", "/x", "shop/api:", "https://"] {
        let e = parse_target(bad).unwrap_err();
        assert!(e.contains(bad), "{bad}: {e}");
    }
}

#[test]
fn values_print_as_prometheus_prints_them() {
    assert_eq!(go_float(1e6), "1e+06");
    assert_eq!(go_float(1234.5), "1234.5");
    assert_eq!(go_float(0.0001), "0.0001");
    assert_eq!(go_float(0.00001), "1e-05");
    assert_eq!(go_float(1e21), "1e+21");
    assert_eq!(go_float(123456789.0), "1.23456789e+08");
    assert_eq!(go_float(f64::NAN), "NaN");
    assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
    assert_eq!(go_float(-0.0), "-0");
    assert_eq!(go_float(3.0), "3");
    assert_eq!(go_float(100000.0), "100000");
    assert_eq!(go_float(999999.5), "999999.5");
}

#[test]
fn text_output_escapes_label_values_and_keeps_timestamps() {
    let page = "# TYPE a counter\na_total{path=\"/x\\\"y\",z=\"1\\n2\"} 3 1700000000000\nb 1e6\n";
    let parsed = expo::parse(page, Format::Text);
    let mut out = Vec::new();
    write_text(&mut out, &parsed).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "a_total{path=\"/x\\\"y\",z=\"1\\n2\"} 3 1700000000000\nb 1e+06\n"
    );
}

#[test]
fn a_pods_endpoint_comes_from_the_argument_its_annotations_or_the_config() {
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "db-0", "namespace": "data",
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9187"}},
        "spec": {"containers": [{"name": "pg", "image": "postgres"}]},
    }))
    .unwrap();
    let config = ScrapingConfig::default();
    assert_eq!(
        pod_endpoint(&pod, None, None, &config).unwrap(),
        ("9187".into(), "/metrics".into(), "http".into())
    );
    assert_eq!(
        pod_endpoint(&pod, Some("8080".into()), Some("stats"), &config).unwrap(),
        ("8080".into(), "/stats".into(), "http".into())
    );
    let bare: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "x", "namespace": "n"},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }))
    .unwrap();
    let e = pod_endpoint(&bare, None, None, &config).unwrap_err();
    assert!(e.contains("n/x:PORT"), "{e}");
    let with_default = ScrapingConfig {
        pod_port: Some(9102),
        ..ScrapingConfig::default()
    };
    assert_eq!(
        pod_endpoint(&bare, None, None, &with_default).unwrap().0,
        "9102"
    );
}
