//! Resolving the fleet from config, kubeconfig and flags; short cluster names.

use std::path::PathBuf;

use kube::config::Kubeconfig;

use super::*;
use crate::config::EnvironmentConfig;

fn kube(contexts: &[&str], current: Option<&str>) -> LoadedKubeconfig {
    let mut yaml = String::from("apiVersion: v1\nkind: Config\ncontexts:\n");
    for c in contexts {
        yaml.push_str(&format!(
            "- name: {c}\n  context:\n    cluster: {c}\n    user: u\n"
        ));
    }
    if let Some(c) = current {
        yaml.push_str(&format!("current-context: {c}\n"));
    }
    LoadedKubeconfig {
        kubeconfig: Kubeconfig::from_yaml(&yaml).unwrap(),
        files: vec![PathBuf::from("/home/me/.kube/config")],
        searched: vec![PathBuf::from("/home/me/.kube/config")],
        warnings: Vec::new(),
    }
}

fn env(name: &str, contexts: &[&str]) -> EnvironmentConfig {
    EnvironmentConfig {
        name: name.to_string(),
        color: None,
        protected: false,
        readonly: false,
        contexts: contexts.iter().map(|c| c.to_string()).collect(),
        namespaces: Vec::new(),
    }
}

fn seeds_config() -> Config {
    let mut prod = env("prod", &["prod-eastus", "prod-westus"]);
    prod.protected = true;
    prod.color = Some("red".into());
    let mut staging = env("staging", &["staging"]);
    staging.readonly = true;
    staging.namespaces = vec!["shop".into()];
    Config {
        environments: vec![prod, staging, env("dev", &["dev", "gone"])],
        ..Config::default()
    }
}

const SEEDS: &[&str] = &["dev", "staging", "prod-eastus", "prod-westus", "viewer@dev"];

/// `env/context=short` for each cluster, to compare layouts at a glance.
fn summary(layout: &FleetLayout) -> Vec<String> {
    layout
        .clusters
        .iter()
        .map(|c| {
            format!(
                "{}/{}={}",
                layout.environments[c.env].name, c.context, c.short
            )
        })
        .collect()
}

fn sel() -> Selection {
    Selection::default()
}

#[test]
fn without_config_the_current_context_is_the_fleet() {
    let layout = resolve(&Config::default(), &kube(SEEDS, Some("staging")), &sel()).unwrap();
    assert_eq!(summary(&layout), ["staging/staging=staging"]);
    assert_eq!(
        layout.environments[0],
        EnvLayout {
            name: "staging".into(),
            ..EnvLayout::default()
        }
    );
    assert!(layout.warnings.is_empty());
}

#[test]
fn without_config_every_context_is_its_own_environment() {
    let all = Selection {
        all_contexts: true,
        ..sel()
    };
    let layout = resolve(&Config::default(), &kube(SEEDS, None), &all).unwrap();
    assert_eq!(
        summary(&layout),
        [
            "dev/dev=dev",
            "staging/staging=staging",
            "prod-eastus/prod-eastus=prod-eastus",
            "prod-westus/prod-westus=prod-westus",
            "viewer@dev/viewer@dev=viewer@dev",
        ]
    );
    let two = Selection {
        contexts: vec!["prod-westus".into(), "dev".into(), "dev".into()],
        ..sel()
    };
    let layout = resolve(&Config::default(), &kube(SEEDS, None), &two).unwrap();
    assert_eq!(
        summary(&layout),
        ["prod-westus/prod-westus=prod-westus", "dev/dev=dev"]
    );
}

#[test]
fn with_config_the_environments_are_the_fleet_in_their_order() {
    let layout = resolve(&seeds_config(), &kube(SEEDS, Some("dev")), &sel()).unwrap();
    assert_eq!(
        summary(&layout),
        [
            "prod/prod-eastus=eastus",
            "prod/prod-westus=westus",
            "staging/staging=staging",
            "dev/dev=dev",
        ]
    );
    let prod = &layout.environments[0];
    assert!(prod.protected && !prod.readonly);
    assert_eq!(prod.color.as_deref(), Some("red"));
    assert_eq!(layout.environments[1].namespaces, ["shop"]);
    assert!(layout.is_readonly(2) && !layout.is_readonly(0));
    assert_eq!(
        layout.warnings,
        [
            "environment dev: context gone is not in the kubeconfig (/home/me/.kube/config); it is left out"
        ]
    );
}

#[test]
fn contexts_outside_the_environments_join_on_request() {
    let all = Selection {
        all_contexts: true,
        readonly: true,
        ..sel()
    };
    let layout = resolve(&seeds_config(), &kube(SEEDS, None), &all).unwrap();
    assert_eq!(
        summary(&layout).last().unwrap(),
        "viewer@dev/viewer@dev=viewer@dev"
    );
    assert_eq!(layout.environments.len(), 4);
    assert!(layout.readonly && layout.is_readonly(0));
    // A context picked by name keeps its environment's protection.
    let one = Selection {
        contexts: vec!["prod-westus".into()],
        ..sel()
    };
    let layout = resolve(&seeds_config(), &kube(SEEDS, None), &one).unwrap();
    assert_eq!(summary(&layout), ["prod/prod-westus=prod-westus"]);
    assert!(layout.environments[0].protected);
}

#[test]
fn env_flag_limits_to_those_environments() {
    let sel_env = |envs: &[&str]| Selection {
        environments: envs.iter().map(|e| e.to_string()).collect(),
        ..sel()
    };
    let layout = resolve(
        &seeds_config(),
        &kube(SEEDS, None),
        &sel_env(&["dev", "prod"]),
    )
    .unwrap();
    assert_eq!(
        summary(&layout),
        [
            "prod/prod-eastus=eastus",
            "prod/prod-westus=westus",
            "dev/dev=dev"
        ],
        "config order, not flag order"
    );
    let layout = resolve(
        &seeds_config(),
        &kube(SEEDS, None),
        &sel_env(&["viewer@dev"]),
    )
    .unwrap();
    assert_eq!(summary(&layout), ["viewer@dev/viewer@dev=viewer@dev"]);
    let e = resolve(&seeds_config(), &kube(SEEDS, None), &sel_env(&["qa"])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no environment named qa; there are: prod, staging, dev, viewer@dev"
    );
    let both = Selection {
        contexts: vec!["dev".into()],
        ..sel_env(&["prod"])
    };
    let e = resolve(&seeds_config(), &kube(SEEDS, None), &both).unwrap_err();
    assert_eq!(
        e.to_string(),
        "no cluster to watch: none of the chosen contexts (dev) is in --env prod"
    );
}

#[test]
fn problems_say_what_to_do() {
    let cfg = Config::default();
    let e = |k: &LoadedKubeconfig, s: &Selection| resolve(&cfg, k, s).unwrap_err().to_string();
    assert_eq!(
        e(&kube(SEEDS, None), &sel()),
        "the kubeconfig (/home/me/.kube/config) sets no current context; choose with --context NAME or --all-contexts (contexts: dev, staging, prod-eastus, prod-westus, viewer@dev)"
    );
    assert_eq!(
        e(&kube(&["a"], Some("b")), &sel()),
        "the current context b is not in the kubeconfig (/home/me/.kube/config); choose with --context NAME or --all-contexts (contexts: a)"
    );
    assert_eq!(
        e(&kube(&[], None), &sel()),
        "the kubeconfig (/home/me/.kube/config) has no contexts; point --kubeconfig or KUBECONFIG at one that has"
    );
    let missing = Selection {
        contexts: vec!["prod".into(), "dev".into(), "qa".into()],
        ..sel()
    };
    assert_eq!(
        e(&kube(&["dev"], None), &missing),
        "no context named prod, qa in the kubeconfig (/home/me/.kube/config); it has: dev"
    );
    let mut cfg = Config::default();
    cfg.environments.push(env("prod", &["old-prod"]));
    let err = resolve(&cfg, &kube(&["dev"], Some("dev")), &sel()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no cluster to watch: none of the environments' contexts (old-prod) is in the kubeconfig (/home/me/.kube/config); choose with --context NAME or --all-contexts (contexts: dev)"
    );
    let prod_only = Selection {
        environments: vec!["prod".into()],
        ..sel()
    };
    let err = resolve(&cfg, &kube(&["dev"], Some("dev")), &prod_only).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no cluster to watch: none of the environments' contexts (old-prod) is in the kubeconfig (/home/me/.kube/config); choose with --context NAME or --all-contexts (contexts: dev)"
    );
}

#[test]
fn a_lone_context_named_like_an_environment_is_told_apart() {
    let mut cfg = Config::default();
    cfg.environments.push(env("dev", &["dev-1", "dev-2"]));
    let all = Selection {
        all_contexts: true,
        ..sel()
    };
    let layout = resolve(&cfg, &kube(&["dev-1", "dev-2", "dev"], None), &all).unwrap();
    assert_eq!(
        summary(&layout),
        ["dev/dev-1=1", "dev/dev-2=2", "dev (context)/dev=dev"]
    );
    assert_eq!(
        layout.warnings,
        [
            "context dev is in no environment but has the name of one; it is shown as environment \"dev (context)\""
        ]
    );
}

#[test]
fn short_names_tell_an_environments_clusters_apart() {
    let s = |cs: &[&str], env: &str| short_names(cs, env);
    assert_eq!(
        s(&["prod-eastus", "prod-westus"], "prod"),
        ["eastus", "westus"]
    );
    assert_eq!(s(&["prod"], "prod"), ["prod"]);
    assert_eq!(
        s(&["staging-eu"], "staging"),
        ["staging-eu"],
        "alone: the whole name"
    );
    assert_eq!(
        s(
            &["gke_shop_us-east1_prod", "gke_shop_europe-west1_prod"],
            "prod"
        ),
        ["us-east1", "europe-west1"]
    );
    assert_eq!(
        s(
            &[
                "arn:aws:eks:us-east-1:123456789012:cluster/prod",
                "arn:aws:eks:us-east-2:123456789012:cluster/prod"
            ],
            "prod"
        ),
        ["east-1", "east-2"]
    );
    assert_eq!(s(&["prod", "prod-eu"], "production"), ["prod", "prod-eu"]);
    assert_eq!(s(&["eu.prod", "us.prod"], "prod"), ["eu", "us"]);
    assert_eq!(s(&["a-x-b", "a-y-b", "a-z-b"], "e"), ["x", "y", "z"]);
    // Nothing shorter keeps them apart: whole names.
    assert_eq!(s(&["x-1", "x_1"], "e"), ["x-1", "x_1"]);
}
