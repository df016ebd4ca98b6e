//! Fleet file tests: every class of mistake as a person reads it (file:line:column: field: what),
//! then the built-in fleet and what it builds (`tests/seeds.rs`), then the objects served over
//! HTTPS to kube-rs (`tests/served.rs`).

use super::*;

mod seeds;
mod served;

/// A small valid file; tests append to it. Lines 6-8 are the app.
const BASE: &str = "\
name: t
clusters:
  - {name: dev, environment: dev}
  - {name: prod, environment: prod}
apps:
  - name: api
    namespace: shop
    image: ghcr.io/shop/api:1.0.0
";

fn ok(text: &str) -> FleetFile {
    parse(text, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
}

/// The whole error text for `text`.
fn err(text: &str) -> String {
    match parse(text, "t.yaml") {
        Ok(_) => panic!("parsed, but should not have:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn with(extra: &str) -> String {
    format!("{BASE}{extra}")
}

#[test]
fn the_smallest_file_gets_sensible_defaults() {
    let f = ok(BASE);
    assert_eq!(f.environments(), ["dev", "prod"]);
    assert_eq!(f.users.len(), 2);
    assert!(f.users[1].read_only && !f.users[0].read_only);
    assert_eq!(f.default_scenario, CALM);
    assert!(f.default_scenario().steps.is_empty());
    let objs = f.objects();
    assert_eq!(objs[0].deployments.len(), 1);
    let d = &objs[0].deployments[0];
    assert_eq!(d["spec"]["replicas"], 1);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "app");
    assert_eq!(c["ports"][0]["containerPort"], 8080);
    assert_eq!(c["resources"]["requests"]["cpu"], "100m");
    assert_eq!(c["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(objs[0].nodes.len(), 2);
    assert_eq!(
        objs[0].namespaces.len(),
        5,
        "four system namespaces and shop"
    );
}

// ---- reading: syntax and types ---------------------------------------------------------------

#[test]
fn syntax_errors_name_the_line() {
    assert_eq!(
        err("name: t\nclusters: [{name: dev\napps: []\n"),
        "t.yaml:2:12: unclosed bracket '{'"
    );
    assert_eq!(
        err(&with(
            "  - name: api\n    namespace: shop\n    namespace: web\n"
        )),
        "t.yaml:11:5: key `namespace` appears twice in one map (first at line 10)"
    );
    assert_eq!(err(""), "t.yaml: the file is empty");
    assert_eq!(err("- a\n- b\n"), "t.yaml:1:1: expected a map, got a list");
}

#[test]
fn wrong_types_say_what_was_expected_in_words() {
    assert_eq!(
        err(&with("    replicas: three\n")),
        "t.yaml:9:15: apps[0].replicas: expected a number or a map of environment to number, got \"three\""
    );
    assert_eq!(
        err(&with("    replicas: -1\n")),
        "t.yaml:9:15: apps[0].replicas: expected a number or a map of environment to number, got -1"
    );
    assert_eq!(
        err(&with("    replicas: {dev: 1, prod: lots}\n")),
        "t.yaml:9:30: apps[0].replicas.prod: expected a whole number, 0 or more, got \"lots\""
    );
    assert_eq!(
        err(&with("    hpa: 3\n")),
        "t.yaml:9:10: apps[0].hpa: expected an autoscaler {min, max, cpu} or a map of environment to autoscaler {min, max, cpu}, got 3"
    );
    assert_eq!(
        err(&with("    port: http\n")),
        "t.yaml:9:11: apps[0].port: expected a whole number from 0 to 65535, got \"http\""
    );
    assert_eq!(
        err(&with("    port: 70000\n")),
        "t.yaml:9:11: apps[0].port: expected a whole number from 0 to 65535, got 70000"
    );
    assert_eq!(
        err("name: t\nclusters:\n  - {name: dev, environment: dev, nodes: [1]}\n"),
        "t.yaml:3:42: clusters[0].nodes: expected a whole number, 0 or more, got a list"
    );
}

#[test]
fn unknown_and_missing_keys_are_errors() {
    assert_eq!(
        err(&with("    replcas: 2\n")),
        "t.yaml:9:5: apps[0].replcas: unknown key `replcas` (did you mean `replicas`?) (known keys: name, namespace, image, port, replicas, hpa, resources, release, canary, blue-green, environments, exporter, behaviour)"
    );
    assert_eq!(
        err("name: t\nclusters:\n  - {name: dev}\n"),
        "t.yaml:3:5: clusters[0]: missing key `environment`"
    );
    assert_eq!(
        err(&with(
            "    behaviour:\n      versions:\n        \"2.0.0\": {error-rat: 0.2}\n"
        )),
        "t.yaml:11:19: apps[0].behaviour.versions.\"2.0.0\".error-rat: unknown key `error-rat` (did you mean `error-rate`?) (known keys: error-rate, p50-ms, p95-ms, flapping-readiness, startup-seconds, memory-mib, crash-after-seconds, oom-after-seconds, hang-after-seconds)"
    );
    assert_eq!(
        err(&with("    release: blue-gren\n")),
        "t.yaml:9:14: apps[0].release: \"blue-gren\" is not one of: rolling, canary, blue-green (did you mean `blue-green`?)"
    );
    assert_eq!(
        err(&with("    behaviour: {kind: database}\n")),
        "t.yaml:9:23: apps[0].behaviour.kind: \"database\" is not one of: api, web, worker, postgres, redis"
    );
}

#[test]
fn values_are_checked_as_they_are_read() {
    let step = |s: &str| with(&format!("scenarios:\n  s:\n    - {s}\n"));
    assert_eq!(
        err(&step("{at: 45, drop-watches: {}}")),
        "t.yaml:11:12: scenarios.s[0].at: \"45\" is not a duration (the number has no unit); write it like 45s, 3m or 1h30m"
    );
    assert_eq!(
        err(&with("    resources: {cpu: lots}\n")),
        "t.yaml:9:22: apps[0].resources.cpu: \"lots\" is not a quantity; write CPU like 250m or 2, memory like 512Mi or 2Gi"
    );
    assert_eq!(
        err(
            "name: t\nclusters: [{name: dev, environment: dev}]\napps:\n  - {name: a, namespace: b, image: ghcr.io/Shop/api:1}\n"
        ),
        "t.yaml:4:36: apps[0].image: \"ghcr.io/Shop/api:1\" is not a valid image reference: \"Shop\": repository names use lowercase letters, digits and single '.', '_' or '-' between them"
    );
    assert_eq!(
        err(
            "name: t\nclusters: [{name: dev, environment: dev}]\napps:\n  - {name: a, namespace: b, image: ghcr.io/shop/api}\n"
        ),
        "t.yaml:4:36: apps[0].image: \"ghcr.io/shop/api\" is not a valid image reference: it needs a version tag (…:2.4.1): the tag chooses how the app behaves"
    );
}

// ---- checking: names and references ----------------------------------------------------------

#[test]
fn names_must_be_kubernetes_names_and_unique() {
    assert_eq!(
        err("name: t\nclusters:\n  - {name: Prod_East, environment: prod}\n"),
        "t.yaml:3:12: clusters[0].name: \"Prod_East\" must be lowercase letters, digits and '-', starting and ending with a letter or digit"
    );
    assert_eq!(
        err(
            "name: t\nclusters:\n  - {name: dev, environment: dev}\n  - {name: dev, environment: prod}\n"
        ),
        "t.yaml:4:12: clusters[1].name: cluster `dev` is declared twice (also clusters[0])\n\
         t.yaml:4:12: clusters[1].name: `dev` names an environment; a cluster may share a name only with its own environment"
    );
    assert_eq!(
        err("name: t\nclusters: []\n"),
        "t.yaml:2:11: clusters: a fleet needs at least one cluster"
    );
    assert_eq!(
        err(&with(
            "  - {name: api, namespace: shop, image: ghcr.io/shop/api:2.0.0}\n"
        )),
        "t.yaml:9:12: apps[1].name: app `api` is declared twice in namespace shop (also apps[0])"
    );
    assert_eq!(
        err(&with(
            "  - {name: 3d-render, namespace: shop, image: ghcr.io/shop/render:1}\n"
        )),
        "t.yaml:9:12: apps[1].name: \"3d-render\" must start with a letter (it names a Service)"
    );
    assert_eq!(
        err(
            "name: t\nclusters:\n  - {name: dev, environment: dev}\n  - {name: staging, environment: dev}\n  - {name: p, environment: staging}\n"
        ),
        "t.yaml:4:12: clusters[1].name: `staging` names an environment; a cluster may share a name only with its own environment"
    );
}

#[test]
fn objects_of_two_apps_must_not_share_a_name() {
    let canary = "    canary: {image: ghcr.io/shop/api:1.1.0}\n  - {name: api-canary, namespace: shop, image: ghcr.io/shop/other:1}\n";
    assert_eq!(
        err(&with(canary)),
        "t.yaml:10:12: apps[1].name: its Deployment api-canary would have the same name as one of api (apps[0]) in namespace shop"
    );
    let preview = "    blue-green: {}\n  - {name: api-preview, namespace: shop, image: ghcr.io/shop/other:1}\n";
    assert_eq!(
        err(&with(preview)),
        "t.yaml:10:12: apps[1].name: its Service api-preview would have the same name as one of api (apps[0]) in namespace shop"
    );
    // In another namespace, the same names are fine.
    ok(&with(&canary.replace(
        "namespace: shop, image: ghcr.io/shop/other",
        "namespace: web, image: ghcr.io/shop/other",
    )));
}

#[test]
fn references_to_environments_and_clusters_are_checked() {
    assert_eq!(
        err(&with("    environments: [dev, prd]\n")),
        "t.yaml:9:25: apps[0].environments[1]: unknown environment `prd` (did you mean `prod`?); the clusters' environments are dev, prod"
    );
    assert_eq!(
        err(&with("    replicas: {dev: 1, prd: 3}\n")),
        "t.yaml:9:24: apps[0].replicas.prd: `prd` is neither an environment nor a cluster (did you mean `prod`?); environments: dev, prod; clusters: dev, prod"
    );
    assert_eq!(
        err(
            &format!("{BASE}namespaces:\n  - {{name: shop, environments: [prod]}}\n").replace(
                "    image: ghcr.io/shop/api:1.0.0\n",
                "    image: ghcr.io/shop/api:1.0.0\n    environments: [dev, prod]\n"
            )
        ),
        "t.yaml:9:19: apps[0].environments: api runs in dev, but namespace shop exists only in prod"
    );
    assert_eq!(
        err(&with(
            "    behaviour: {depends-on: [postgress]}\n  - {name: postgres, namespace: shop, image: postgres:16, behaviour: {kind: postgres}}\n"
        )),
        "t.yaml:9:30: apps[0].behaviour.depends-on[0]: no app `postgress` in namespace shop (did you mean `postgres`?); a dependency is an app in the same namespace"
    );
    assert_eq!(
        err(&with(
            "    behaviour: {depends-on: [redis]}\n  - {name: redis, namespace: shop, image: redis:7, environments: [prod], behaviour: {kind: redis}}\n"
        )),
        "t.yaml:9:30: apps[0].behaviour.depends-on[0]: api needs redis, which does not run in dev"
    );
}

#[test]
fn bounds_are_checked() {
    assert_eq!(
        err(&with("    hpa: {prod: {min: 12, max: 10}}\n")),
        "t.yaml:9:23: apps[0].hpa.prod.min: min 12 is above max 10"
    );
    assert_eq!(
        err(&with("    resources: {memory: 1Gi, memory-limit: 512Mi}\n")),
        "t.yaml:9:44: apps[0].resources.memory-limit: the limit 512Mi is below the request 1Gi"
    );
    assert_eq!(
        err(&with(
            "    behaviour: {versions: {\"2.0.0\": {error-rate: 20}}}\n"
        )),
        "t.yaml:9:50: apps[0].behaviour.versions.\"2.0.0\".error-rate: 20 is a fraction of requests: 0 to 1 (0.2 is 20%)"
    );
    assert_eq!(
        err(&format!(
            "{BASE}    resources: {{cpu: \"3\"}}\n    replicas: 3\nnamespaces:\n  - {{name: shop, quota: {{cpu: \"8\"}}}}\n"
        )),
        "t.yaml:12:31: namespaces[0].quota.cpu: in dev the pods of shop request 9 CPU, over the quota's 8\n\
         t.yaml:12:31: namespaces[0].quota.cpu: in prod the pods of shop request 9 CPU, over the quota's 8"
    );
}

#[test]
fn a_quota_on_limits_needs_limits() {
    let text = format!("{BASE}namespaces:\n  - {{name: shop, quota: {{limits-cpu: \"4\"}}}}\n");
    assert_eq!(
        err(&text),
        "t.yaml:6:5: apps[0].resources: namespace shop's quota limits CPU, so api's pods need a cpu-limit"
    );
    let f = ok(&text.replace(
        "    image: ghcr.io/shop/api:1.0.0\n",
        "    image: ghcr.io/shop/api:1.0.0\n    resources: {cpu-limit: 500m}\n",
    ));
    let q = &f.objects()[0].resource_quotas[0];
    assert_eq!(q["spec"]["hard"], serde_json::json!({"limits.cpu": "4"}));
    assert_eq!(
        q["status"]["used"],
        serde_json::json!({"limits.cpu": "500m"})
    );
}

#[test]
fn releases_must_be_consistent() {
    assert_eq!(
        err(&with("    release: canary\n")),
        "t.yaml:9:14: apps[0].release: a canary release needs a `canary:` block (its image, replicas)"
    );
    assert_eq!(
        err(&with("    release: rolling\n    blue-green:\n")),
        "t.yaml:10:5: apps[0].blue-green: a `blue-green:` block needs `release: blue-green` (or no `release` key)"
    );
    assert_eq!(
        err(&with(
            "    canary: {image: ghcr.io/shop/api:1.1.0, environments: [qa]}\n"
        )),
        "t.yaml:9:60: apps[0].canary.environments[0]: unknown environment `qa`; the clusters' environments are dev, prod"
    );
    assert_eq!(
        err(&with(
            "  - {name: web, namespace: shop, image: ghcr.io/shop/api:1.0.0, behaviour: {kind: web}}\n"
        )),
        "t.yaml:9:41: apps[1].image: ghcr.io/shop/api is also the image of api (apps[0]) with another behaviour; apps that behave differently need their own repositories"
    );
}

// ---- checking: timelines ---------------------------------------------------------------------

fn scenario(steps: &str) -> String {
    with(&format!(
        "  - {{name: redis, namespace: shop, image: redis:7.4, behaviour: {{kind: redis}}}}\nscenarios:\n  s:\n{steps}"
    ))
}

#[test]
fn timeline_steps_resolve_to_clusters() {
    let f = ok(&scenario(
        "    - {at: 1h30m, drop-watches: {}}\n\
         \x20   - {at: 45s, environment: prod, crash-pod: {namespace: shop, app: api}}\n\
         \x20   - {at: 2m, set-image: {namespace: shop, deployment: redis, image: redis:7.6}}\n\
         \x20   - {at: 3m, cluster: dev, unreachable: }\n\
         \x20   - {at: 4m, fail-dependency: {namespace: shop, name: redis, for: 90s}}\n",
    ));
    let s = f.scenario("s").unwrap();
    assert_eq!(f.default_scenario, "s", "the first scenario is the default");
    let at: Vec<i64> = s.steps.iter().map(|s| s.at.as_secs()).collect();
    assert_eq!(at, [45, 120, 180, 240, 5400], "in time order");
    assert_eq!(s.steps[0].clusters, ["prod"]);
    assert_eq!(
        s.steps[1].action,
        Action::SetImage {
            namespace: "shop".into(),
            deployment: "redis".into(),
            container: "redis".into(),
            image: "redis:7.6".into()
        }
    );
    assert_eq!(s.steps[1].clusters, ["dev", "prod"]);
    assert_eq!(s.steps[2].action, Action::Unreachable { duration: None });
    assert_eq!(s.steps[4].to_string(), "1h30m dev,prod: drop-watches");
    assert_eq!(
        s.steps[3].to_string(),
        "4m dev,prod: fail-dependency shop/redis for 1m30s"
    );
    let t0: jiff::Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let fault = s.steps[3].action.world_fault(t0).unwrap();
    assert_eq!(
        fault.target,
        crate::sim::world::Target::new("shop", "redis")
    );
    assert_eq!(fault.kind, crate::sim::world::FaultKind::DependencyDown);
    assert_eq!(fault.until, Some(t0 + jiff::SignedDuration::from_secs(90)));
    assert!(s.steps[0].action.world_fault(t0).is_none());
}

#[test]
fn timeline_references_are_checked() {
    let e = |step: &str| err(&scenario(&format!("    - {step}\n")));
    assert_eq!(
        e("{at: 1m, cluster: prod-west, drop-watches: {}}"),
        "t.yaml:12:25: scenarios.s[0].cluster: unknown cluster `prod-west`; clusters: dev, prod"
    );
    assert_eq!(
        e("{at: 1m, environment: staging, drop-watches: {}}"),
        "t.yaml:12:29: scenarios.s[0].environment: unknown environment `staging`; environments: dev, prod"
    );
    assert_eq!(
        e("{at: 1m, crash-pod: {namespace: shop, app: apii}}"),
        "t.yaml:12:50: scenarios.s[0].crash-pod.app: no app `apii` in namespace shop (did you mean `api`?); there are: api, redis"
    );
    assert_eq!(
        e("{at: 1m, add-errors: {namespace: shpo, app: api, rate: 0.3}}"),
        "t.yaml:12:40: scenarios.s[0].add-errors.namespace: no app runs in namespace `shpo` (did you mean `shop`?)"
    );
    assert_eq!(
        e(
            "{at: 1m, set-image: {namespace: shop, deployment: api-canary, image: ghcr.io/shop/api:2.0.0}}"
        ),
        "t.yaml:12:57: scenarios.s[0].set-image.deployment: no deployment `api-canary` in namespace shop; there are: api, redis"
    );
    assert_eq!(
        e(
            "{at: 1m, set-image: {namespace: shop, deployment: api, container: main, image: ghcr.io/shop/api:2.0.0}}"
        ),
        "t.yaml:12:73: scenarios.s[0].set-image.container: pods of api have no container `main`; they have: app"
    );
    assert_eq!(
        e("{at: 1m, set-image: {namespace: shop, deployment: api, image: ghcr.io/shop/apl:2.0.0}}"),
        "t.yaml:12:69: scenarios.s[0].set-image.image: no app of this fleet uses ghcr.io/shop/apl (did you mean `ghcr.io/shop/api`?), so its pods would run the default app; add it as an app's image, or fix the name"
    );
    assert_eq!(
        e("{at: 1m, add-errors: {namespace: shop, app: api, rate: 1.5}}"),
        "t.yaml:12:62: scenarios.s[0].add-errors.rate: 1.5 is a fraction of requests: more than 0, at most 1 (0.3 is 30%)"
    );
    assert_eq!(
        e("{at: 1m, cluster: dev}"),
        "t.yaml:12:7: scenarios.s[0]: a step needs one action: set-image, crash-pod, fail-dependency, add-latency, add-errors, unreachable, slow-api, drop-watches"
    );
    assert_eq!(
        e("{at: 1m, drop-watches: {}, unreachable: {}}"),
        "t.yaml:12:7: scenarios.s[0]: a step has one action, this one has unreachable and drop-watches: split it into steps"
    );
    assert_eq!(
        e("{at: 1m, cluster: dev, environment: dev, drop-watches: {}}"),
        "t.yaml:12:43: scenarios.s[0].environment: give `cluster` or `environment`, not both"
    );
    assert_eq!(
        e("{at: 1m, crash-pod: {namespace: shop}}"),
        "t.yaml:12:27: scenarios.s[0].crash-pod: name the `app` (one of its pods is killed) or the `pod`, one of the two"
    );
    assert_eq!(
        e("{at: 1m, slow-api: {ms: 100, for: 0s}}"),
        "t.yaml:12:41: scenarios.s[0].slow-api.for: lasts 0s: leave `for` out to mean until the end"
    );
}

#[test]
fn a_named_cluster_must_run_the_target() {
    let text = with(
        "  - {name: worker, namespace: shop, image: ghcr.io/shop/worker:1, environments: [prod]}\n\
         scenarios:\n  s:\n    - {at: 1m, cluster: dev, crash-pod: {namespace: shop, app: worker}}\n\
         \x20   - {at: 1m, crash-pod: {namespace: shop, app: worker}}\n",
    );
    assert_eq!(
        err(&text),
        "t.yaml:12:64: scenarios.s[0].crash-pod.app: app shop/worker does not run in dev"
    );
    let f = ok(&text.replace("cluster: dev, ", ""));
    assert!(
        f.scenario("s")
            .unwrap()
            .steps
            .iter()
            .all(|s| s.clusters == ["prod"])
    );
}

#[test]
fn scenario_names() {
    assert_eq!(
        err(&with("scenarios:\n  calm: []\n")),
        "t.yaml:10:9: scenarios.calm: `calm` is built in (and empty); give this scenario another name"
    );
    assert_eq!(
        err(&with(
            "scenarios:\n  incident: []\ndefault-scenario: incidnet\n"
        )),
        "t.yaml:11:19: default-scenario: no scenario `incidnet` (did you mean `incident`?); scenarios: incident, calm"
    );
    let f = ok(&with(
        "scenarios:\n  incident: []\ndefault-scenario: calm\n",
    ));
    assert_eq!(f.default_scenario().name, "calm");
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "name: t\nclusters:\n  - {name: dev, environment: dev}\napps:\n  - {name: a, namespace: shop, image: x/a:1, environments: [prd]}\n  - {name: b, namespace: shop, image: x/b:1, hpa: {min: 5, max: 2}}\n";
    let e = parse(text, "t.yaml").unwrap_err();
    assert_eq!(e.problems.len(), 2, "{e}");
    assert_eq!(
        e.problems[0].loc,
        Some(Loc {
            line: 5,
            column: 61
        })
    );
    assert_eq!(e.problems[1].path, "apps[1].hpa.min");
}

#[test]
fn files_and_builtins_are_found_by_name() {
    assert_eq!(resolve("seeds").unwrap().name, "seeds");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.yaml");
    std::fs::write(&path, BASE).unwrap();
    assert_eq!(
        resolve(path.to_str().unwrap()).unwrap().origin,
        path.display().to_string()
    );
    let missing = dir.path().join("nope.yaml");
    let e = resolve(missing.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: cannot read the fleet file: ",
            missing.display()
        )),
        "{e}"
    );
    assert_eq!(
        resolve("sedes").unwrap_err().to_string(),
        "sedes: no built-in fleet and no file of that name (did you mean `seeds`?); built-in fleets: seeds, small"
    );
    // Every shipped example is valid.
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/fleets")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "yaml") {
            load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn the_shipped_example_and_small_fleets_are_valid() {
    let example = include_str!("../../../fleets/example.yaml");
    let fleet = super::parse(example, "fleets/example.yaml").unwrap_or_else(|e| panic!("{e}"));
    assert!(!fleet.clusters.is_empty() && !fleet.apps.is_empty());
    let small = super::resolve("small").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(small.apps.len(), 3);
    // The small fleet's apps declare no behaviour: they run the minimal app.
    assert!(small.catalog().is_empty());
    assert_eq!(small.default_scenario().name, super::CALM);
}
