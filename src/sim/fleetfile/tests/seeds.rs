//! The built-in fleet says what the seed write-ups say.

use serde_json::Value;

use super::*;

fn seeds() -> FleetFile {
    parse(SEEDS, "fleets/seeds.yaml").unwrap_or_else(|e| panic!("{e}"))
}

fn objects(f: &FleetFile, cluster: &str) -> ClusterObjects {
    f.cluster_objects(f.cluster(cluster).unwrap())
}

fn named<'a>(list: &'a [Value], namespace: &str, name: &str) -> &'a Value {
    list.iter()
        .find(|v| v["metadata"]["name"] == name && v["metadata"]["namespace"] == namespace)
        .unwrap_or_else(|| panic!("no {namespace}/{name}"))
}

fn has(list: &[Value], namespace: &str, name: &str) -> bool {
    list.iter()
        .any(|v| v["metadata"]["name"] == name && v["metadata"]["namespace"] == namespace)
}

#[test]
fn the_builtin_fleet_is_valid_and_moderate() {
    let f = builtin();
    assert_eq!(f.name, "seeds");
    assert_eq!(f.environments(), ["dev", "staging", "prod"]);
    let prod: Vec<(&str, Option<Role>)> = f
        .clusters
        .iter()
        .filter(|c| c.environment == "prod")
        .map(|c| (c.name.as_str(), c.role))
        .collect();
    assert_eq!(
        prod,
        [
            ("prod-eastus", Some(Role::Primary)),
            ("prod-westus", Some(Role::Secondary))
        ]
    );
    let pods: u32 = f.objects().iter().map(|o| o.pods).sum();
    assert!((100..=200).contains(&pods), "{pods} pods");
    assert_eq!(f.default_scenario, "incident");
    let names: Vec<&str> = f.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["incident", "regional-outage", "db-outage", "calm"]);
    let users: Vec<(&str, bool)> = f
        .users
        .iter()
        .map(|u| (u.name.as_str(), u.read_only))
        .collect();
    assert_eq!(users, [("admin", false), ("viewer", true)]);
}

#[test]
fn seed_000_export_service() {
    let f = seeds();
    let replicas_and_hpa = |cluster: &str| {
        let o = objects(&f, cluster);
        let d = named(&o.deployments, "arxos", "export-service");
        let hpa = o
            .hpas
            .iter()
            .find(|h| h["metadata"]["name"] == "export-service")
            .map(|h| {
                (
                    h["spec"]["minReplicas"].as_u64().unwrap(),
                    h["spec"]["maxReplicas"].as_u64().unwrap(),
                )
            });
        (d["spec"]["replicas"].as_u64().unwrap(), hpa)
    };
    assert_eq!(replicas_and_hpa("dev"), (1, None));
    assert_eq!(replicas_and_hpa("staging"), (2, Some((3, 10))));
    assert_eq!(replicas_and_hpa("prod-eastus"), (5, Some((5, 15))));
    assert_eq!(replicas_and_hpa("prod-westus"), (5, Some((5, 15))));
    let o = objects(&f, "prod-eastus");
    let d = named(&o.deployments, "arxos", "export-service");
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(
        c["resources"]["limits"]["memory"], "2Gi",
        "production: 512Mi-2Gi"
    );
    assert_eq!(c["resources"]["limits"]["cpu"], "1000m");
    let dev = objects(&f, "dev");
    let c = &named(&dev.deployments, "arxos", "export-service")["spec"]["template"]["spec"]["containers"]
        [0];
    assert_eq!(
        c["resources"]["limits"]["memory"], "1Gi",
        "development: 256Mi-1Gi"
    );
    let profile = &f
        .catalog()
        .into_iter()
        .find(|(r, _)| r == "ghcr.io/arxos/export-service")
        .unwrap()
        .1;
    assert_eq!(profile.health, crate::sim::app::profile::HealthStyle::Arxos);
    assert_eq!(profile.logs, crate::sim::app::profile::LogFormat::Json);
    assert!(profile.versions["1.5.0"].crash_after_seconds.is_some());
}

#[test]
fn seed_001_arq() {
    let f = seeds();
    let o = objects(&f, "prod-westus");
    let d = named(&o.deployments, "arq", "arq-backend");
    let tpl = &d["spec"]["template"];
    let c = &tpl["spec"]["containers"][0];
    assert_eq!(c["name"], "app");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/api/v1/health");
    assert_eq!(
        c["readinessProbe"]["httpGet"]["path"],
        "/api/v1/health/readiness"
    );
    assert_eq!(c["ports"][0]["containerPort"], 3001);
    assert_eq!(
        tpl["metadata"]["annotations"]["prometheus.io/path"],
        "/api/v1/metrics"
    );
    assert_eq!(tpl["metadata"]["annotations"]["prometheus.io/port"], "3001");
    assert_eq!(tpl["metadata"]["labels"]["environment"], "prod");
    for app in ["arq-backend", "arq-frontend"] {
        let hpa = named(&o.hpas, "arq", app);
        assert_eq!(
            (
                hpa["spec"]["minReplicas"].clone(),
                hpa["spec"]["maxReplicas"].clone()
            ),
            (2.into(), 10.into())
        );
    }
    let metrics = &named(&o.hpas, "arq", "arq-backend")["spec"]["metrics"];
    assert_eq!(
        metrics[1]["resource"]["name"], "memory",
        "scales on CPU and memory"
    );

    let pg = named(&o.deployments, "arq", "postgres");
    let tpl = &pg["spec"]["template"];
    let containers = tpl["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers[0]["name"], "postgres");
    assert_eq!(containers[0]["ports"][0]["containerPort"], 5432);
    assert_eq!(
        containers[0]["readinessProbe"]["tcpSocket"]["port"],
        "postgres"
    );
    assert_eq!(containers[1]["name"], "exporter");
    assert_eq!(containers[1]["ports"][0]["containerPort"], 9187);
    assert_eq!(tpl["metadata"]["annotations"]["prometheus.io/port"], "9187");
    assert_eq!(
        tpl["metadata"]["annotations"]["prometheus.io/path"],
        "/metrics"
    );
    assert_eq!(pg["spec"]["strategy"]["type"], "Recreate");
    let redis = named(&o.deployments, "arq", "redis");
    assert_eq!(
        redis["spec"]["template"]["spec"]["containers"][1]["ports"][0]["containerPort"],
        9121
    );
    let svc = named(&o.services, "arq", "redis");
    assert_eq!(svc["spec"]["ports"][0]["port"], 6379);
    assert_eq!(svc["spec"]["ports"][1]["name"], "metrics");

    let backend = &f
        .catalog()
        .into_iter()
        .find(|(r, _)| r == "ghcr.io/arq/arq-backend")
        .unwrap()
        .1;
    assert_eq!(backend.depends_on, ["postgres", "redis"]);
    let bad = &backend.versions["2.5.0"];
    assert_eq!(
        (bad.error_rate, bad.flapping_readiness),
        (Some(0.2), Some(true))
    );
    assert!(bad.p95_ms.unwrap() > 1000.0);
}

#[test]
fn seed_002_covetpy_is_blue_green() {
    let f = seeds();
    let o = objects(&f, "prod-eastus");
    let blue = named(&o.deployments, "covetpy", "covet-api-blue");
    let green = named(&o.deployments, "covetpy", "covet-api-green");
    assert_eq!(blue["spec"]["selector"]["matchLabels"]["slot"], "blue");
    assert_eq!(
        blue["spec"]["template"]["metadata"]["labels"]["app"],
        "covet-api"
    );
    assert_eq!(
        green["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/covetpy/covet-api:3.3.0"
    );
    assert_eq!(
        (
            blue["spec"]["replicas"].clone(),
            green["spec"]["replicas"].clone()
        ),
        (3.into(), 2.into())
    );
    let svc = named(&o.services, "covetpy", "covet-api");
    assert_eq!(
        svc["spec"]["selector"],
        serde_json::json!({"app": "covet-api", "slot": "blue"})
    );
    let preview = named(&o.services, "covetpy", "covet-api-preview");
    assert_eq!(preview["spec"]["selector"]["slot"], "green");
    let hpa = named(&o.hpas, "covetpy", "covet-api");
    assert_eq!(hpa["spec"]["scaleTargetRef"]["name"], "covet-api-blue");
    let profile = &f
        .catalog()
        .into_iter()
        .find(|(r, _)| r == "ghcr.io/covetpy/covet-api")
        .unwrap()
        .1;
    assert!(
        profile.normal.p95_ms.unwrap() < 500.0,
        "meets its p95 objective"
    );
    assert!(
        profile.versions["3.3.0"].p95_ms.unwrap() > 500.0,
        "the idle slot would not"
    );
}

#[test]
fn seed_003_code_canaries() {
    let f = seeds();
    let prod = objects(&f, "prod-westus");
    let stable = named(&prod.deployments, "code", "code-api");
    let canary = named(&prod.deployments, "code", "code-api-canary");
    assert_eq!(
        stable["spec"]["template"]["metadata"]["labels"]["track"],
        "stable"
    );
    assert_eq!(
        canary["spec"]["template"]["metadata"]["labels"]["track"],
        "canary"
    );
    assert_eq!(
        canary["spec"]["template"]["metadata"]["labels"]["app"],
        "code-api"
    );
    assert_eq!(canary["spec"]["selector"]["matchLabels"]["track"], "canary");
    assert_eq!(canary["spec"]["replicas"], 1);
    assert_eq!(
        canary["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/code-project/code-api:1.13.0"
    );
    let svc = named(&prod.services, "code", "code-api");
    assert_eq!(
        svc["spec"]["selector"],
        serde_json::json!({"app": "code-api"}),
        "both tracks get traffic"
    );
    assert_eq!(
        named(&prod.hpas, "code", "code-api")["spec"]["scaleTargetRef"]["name"],
        "code-api"
    );
    assert!(has(&prod.deployments, "code", "code-worker-canary"));
    assert!(
        !has(&prod.services, "code", "code-worker"),
        "a worker has no Service"
    );
    let staging = objects(&f, "staging");
    assert!(has(&staging.deployments, "code", "code-api-canary"));
    assert!(
        !has(&staging.deployments, "code", "code-worker-canary"),
        "the worker canary is prod only"
    );
    let dev = objects(&f, "dev");
    assert!(!has(&dev.deployments, "code", "code-api-canary"));
    let worker = &f
        .catalog()
        .into_iter()
        .find(|(r, _)| r == "ghcr.io/code-project/code-worker")
        .unwrap()
        .1;
    assert_eq!(worker.kind, crate::sim::app::profile::Kind::Worker);
    assert!(worker.versions["1.13.0"].oom_after_seconds.is_some());
}

#[test]
fn seed_004_arxos_namespaces_have_quotas() {
    let f = seeds();
    let quotas = |cluster: &str| -> Vec<(String, Value)> {
        objects(&f, cluster)
            .resource_quotas
            .iter()
            .map(|q| {
                (
                    q["metadata"]["namespace"].as_str().unwrap().to_owned(),
                    q["spec"]["hard"].clone(),
                )
            })
            .collect()
    };
    assert!(
        quotas("dev").is_empty(),
        "the arxos namespaces are staging and prod only"
    );
    let prod = quotas("prod-eastus");
    let want = [
        ("arxos-system", "4", "8Gi"),
        ("arxos-apps", "16", "32Gi"),
        ("arxos-construction", "8", "16Gi"),
        ("arxos-ai", "12", "24Gi"),
        ("arxos-iot", "6", "12Gi"),
    ];
    assert_eq!(prod.len(), want.len());
    for ((ns, hard), (wns, cpu, memory)) in prod.iter().zip(want) {
        assert_eq!(ns, wns);
        assert_eq!(hard["requests.cpu"], cpu);
        assert_eq!(hard["requests.memory"], memory);
    }
    let o = objects(&f, "prod-eastus");
    let q = named(&o.resource_quotas, "arxos-apps", "compute-resources");
    // frontend 3 x 100m/128Mi, cmms 2 x 100m/256Mi.
    assert_eq!(q["status"]["used"]["requests.cpu"], "500m");
    assert_eq!(q["status"]["used"]["requests.memory"], "896Mi");
    assert_eq!(q["status"]["hard"], q["spec"]["hard"]);
    let frontend = named(&o.deployments, "arxos-apps", "arxos-frontend");
    assert_eq!(frontend["spec"]["replicas"], 3);
    let hpa = named(&o.hpas, "arxos-apps", "arxos-frontend");
    assert_eq!(
        (
            hpa["spec"]["minReplicas"].clone(),
            hpa["spec"]["maxReplicas"].clone()
        ),
        (2.into(), 10.into())
    );
    let construction = named(&o.hpas, "arxos-construction", "arxos-construction");
    assert_eq!(
        (
            construction["spec"]["minReplicas"].clone(),
            construction["spec"]["maxReplicas"].clone()
        ),
        (1.into(), 5.into())
    );
    assert_eq!(
        named(&o.deployments, "arxos-construction", "arxos-construction")["spec"]["replicas"],
        2
    );
    let ns = o
        .namespaces
        .iter()
        .find(|n| n["metadata"]["name"] == "arxos-ai")
        .unwrap();
    assert_eq!(ns["metadata"]["labels"]["environment"], "prod");
    let node = &o.nodes[0];
    assert_eq!(
        node["metadata"]["labels"]["topology.kubernetes.io/region"],
        "eastus"
    );
    assert_eq!(
        objects(&f, "prod-westus").nodes[0]["metadata"]["labels"]["topology.kubernetes.io/region"],
        "westus"
    );
}

#[test]
fn the_incident_plays_in_the_first_minutes() {
    let f = seeds();
    let incident = f.default_scenario();
    assert!(incident.steps.windows(2).all(|w| w[0].at <= w[1].at));
    assert!(
        incident.steps.iter().all(|s| s.at.as_secs() <= 360),
        "within six minutes"
    );
    let rollout = incident
        .steps
        .iter()
        .find(|s| matches!(&s.action, Action::SetImage { deployment, .. } if deployment == "arq-backend"))
        .unwrap();
    assert_eq!(
        rollout.clusters,
        ["prod-westus"],
        "one production region only"
    );
    assert!((60..=90).contains(&rollout.at.as_secs()));
    assert_eq!(
        rollout.to_string(),
        "1m15s prod-westus: set-image arq/arq-backend app=ghcr.io/arq/arq-backend:2.5.0"
    );
    let crash = &incident.steps[0];
    assert_eq!(crash.clusters, ["staging"]);
    assert!(matches!(&crash.action, Action::SetImage { image, .. } if image.ends_with(":1.5.0")));
    let keys: Vec<&str> = incident.steps.iter().map(|s| s.action.key()).collect();
    for k in [
        "set-image",
        "fail-dependency",
        "unreachable",
        "add-latency",
        "crash-pod",
    ] {
        assert!(keys.contains(&k), "{k}");
    }
    let outage = f.scenario("db-outage").unwrap();
    assert_eq!(outage.steps[0].clusters, ["prod-eastus", "prod-westus"]);
    assert!(f.scenario(CALM).unwrap().steps.is_empty());
}

#[test]
fn the_catalog_covers_every_image_the_pods_run() {
    let f = seeds();
    let catalog = f.catalog();
    let repos: Vec<&str> = catalog.iter().map(|(r, _)| r.as_str()).collect();
    for o in f.objects() {
        for d in &o.deployments {
            for c in d["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
            {
                let image = ImageRef::parse(c["image"].as_str().unwrap()).unwrap();
                assert!(
                    repos.contains(&image.repository.as_str()),
                    "{}",
                    image.repository
                );
            }
        }
    }
    assert_eq!(
        repos.iter().filter(|r| **r == "redis").count(),
        1,
        "one entry per repository"
    );
    let pg = &catalog
        .iter()
        .find(|(r, _)| r == "quay.io/prometheuscommunity/postgres-exporter")
        .unwrap()
        .1;
    assert_eq!(
        pg.kind,
        crate::sim::app::profile::Kind::Postgres,
        "the exporter answers for its database"
    );
    let frontend = &catalog
        .iter()
        .find(|(r, _)| r == "arxosacr.azurecr.io/arxos-frontend")
        .unwrap()
        .1;
    assert_eq!(
        frontend.memory_limit_mib,
        Some(512.0),
        "taken from the pod spec"
    );
}
