//! Reading a timeline: each step's scope (`cluster:`, `environment:`, or every cluster) narrowed to
//! the clusters where its target runs, and every name it uses checked against the fleet.

use jiff::SignedDuration;

use super::durations::Dur;
use super::model::{ACTIONS, ClusterConfig, StepConfig, main_container};
use super::suggest::did_you_mean;
use super::timeline::{Action, CALM, PodTarget, Scenario, Step};
use super::validate::Checker;
use super::yaml::Path;

/// What a step acts on, to narrow its clusters to those where it exists.
enum Needs<'a> {
    Nothing,
    /// An app, named by the step's key `field`.
    App {
        namespace: &'a str,
        app: &'a str,
        field: &'static str,
    },
    Deployment {
        namespace: &'a str,
        deployment: &'a str,
    },
}

impl Checker<'_> {
    /// Resolves the scenarios of the file; problems go to the checker.
    pub fn scenarios(&mut self, raw: &[(String, Vec<StepConfig>)]) -> Vec<Scenario> {
        let mut out = Vec::new();
        for (name, steps) in raw {
            let at = Path::default().key("scenarios").key(name.as_str());
            if name == CALM {
                self.err(
                    at.clone(),
                    "`calm` is built in (and empty); give this scenario another name",
                );
            } else if let Err(why) = super::values::dns_label(name) {
                self.err(at.clone(), why);
            }
            let mut resolved: Vec<Step> = steps
                .iter()
                .enumerate()
                .filter_map(|(i, s)| self.step(&at.index(i), s))
                .collect();
            resolved.sort_by_key(|s| s.at);
            out.push(Scenario {
                name: name.clone(),
                steps: resolved,
            });
        }
        out.push(Scenario {
            name: CALM.into(),
            steps: Vec::new(),
        });
        out
    }

    fn step(&mut self, at: &Path, s: &StepConfig) -> Option<Step> {
        let f = self.fleet;
        let present: Vec<&str> = [
            s.set_image.is_some(),
            s.crash_pod.is_some(),
            s.fail_dependency.is_some(),
            s.add_latency.is_some(),
            s.add_errors.is_some(),
            s.unreachable.is_some(),
            s.slow_api.is_some(),
            s.drop_watches.is_some(),
        ]
        .iter()
        .zip(ACTIONS)
        .filter(|(on, _)| **on)
        .map(|(_, k)| *k)
        .collect();
        match present.as_slice() {
            [_] => {}
            [] => {
                self.err(
                    at.clone(),
                    format!("a step needs one action: {}", ACTIONS.join(", ")),
                );
                return None;
            }
            many => {
                self.err(
                    at.clone(),
                    format!(
                        "a step has one action, this one has {}: split it into steps",
                        many.join(" and ")
                    ),
                );
                return None;
            }
        }
        let scope: Vec<&ClusterConfig> = match (&s.cluster, &s.environment) {
            (Some(_), Some(_)) => {
                self.err(
                    at.key("environment"),
                    "give `cluster` or `environment`, not both",
                );
                return None;
            }
            (Some(c), None) => match f.cluster(c) {
                Some(c) => vec![c],
                None => {
                    let names: Vec<&str> = f.clusters.iter().map(|c| c.name.as_str()).collect();
                    self.err(
                        at.key("cluster"),
                        format!(
                            "unknown cluster `{c}`{}; clusters: {}",
                            did_you_mean(c, names.iter().copied()),
                            names.join(", ")
                        ),
                    );
                    return None;
                }
            },
            (None, Some(e)) => {
                let envs = f.environments();
                if !envs.contains(&e.as_str()) {
                    self.err(
                        at.key("environment"),
                        format!(
                            "unknown environment `{e}`{}; environments: {}",
                            did_you_mean(e, envs.iter().copied()),
                            envs.join(", ")
                        ),
                    );
                    return None;
                }
                f.clusters.iter().filter(|c| c.environment == *e).collect()
            }
            (None, None) => f.clusters.iter().collect(),
        };
        let explicit = s.cluster.is_some();
        let dur = |d: &Option<Dur>| d.map(|d| d.0);
        let key = at.key(present[0]);
        let (action, needs) = if let Some(a) = &s.set_image {
            let needs = Needs::Deployment {
                namespace: &a.namespace,
                deployment: &a.deployment,
            };
            let container = self.set_image_container(&key, a);
            (
                Action::SetImage {
                    namespace: a.namespace.clone(),
                    deployment: a.deployment.clone(),
                    container: container?,
                    image: a.image.full.clone(),
                },
                needs,
            )
        } else if let Some(a) = &s.crash_pod {
            let target = match (&a.app, &a.pod) {
                (Some(app), None) => PodTarget::App(app.clone()),
                (None, Some(pod)) => PodTarget::Pod(pod.clone()),
                _ => {
                    self.err(
                        key,
                        "name the `app` (one of its pods is killed) or the `pod`, one of the two",
                    );
                    return None;
                }
            };
            let needs = match &a.app {
                Some(app) => Needs::App {
                    namespace: &a.namespace,
                    app,
                    field: "app",
                },
                None => Needs::Nothing,
            };
            (
                Action::CrashPod {
                    namespace: a.namespace.clone(),
                    target,
                },
                needs,
            )
        } else if let Some(a) = &s.fail_dependency {
            let action = Action::FailDependency {
                namespace: a.namespace.clone(),
                name: a.name.clone(),
                duration: dur(&a.duration),
            };
            (
                action,
                Needs::App {
                    namespace: &a.namespace,
                    app: &a.name,
                    field: "name",
                },
            )
        } else if let Some(a) = &s.add_latency {
            if a.ms == 0 {
                self.err(key.key("ms"), "0 ms adds nothing");
            }
            let action = Action::AddLatency {
                namespace: a.namespace.clone(),
                app: a.app.clone(),
                extra: SignedDuration::from_millis(a.ms.into()),
                duration: dur(&a.duration),
            };
            (
                action,
                Needs::App {
                    namespace: &a.namespace,
                    app: &a.app,
                    field: "app",
                },
            )
        } else if let Some(a) = &s.add_errors {
            if !(a.rate > 0.0 && a.rate <= 1.0) {
                self.err(
                    key.key("rate"),
                    format!(
                        "{} is a fraction of requests: more than 0, at most 1 (0.3 is 30%)",
                        a.rate
                    ),
                );
            }
            let action = Action::AddErrors {
                namespace: a.namespace.clone(),
                app: a.app.clone(),
                rate: a.rate,
                duration: dur(&a.duration),
            };
            (
                action,
                Needs::App {
                    namespace: &a.namespace,
                    app: &a.app,
                    field: "app",
                },
            )
        } else if let Some(a) = &s.unreachable {
            (
                Action::Unreachable {
                    duration: dur(&a.duration),
                },
                Needs::Nothing,
            )
        } else if let Some(a) = &s.slow_api {
            if a.ms == 0 {
                self.err(key.key("ms"), "0 ms adds nothing");
            }
            let action = Action::SlowApi {
                extra: SignedDuration::from_millis(a.ms.into()),
                duration: dur(&a.duration),
            };
            (action, Needs::Nothing)
        } else {
            (Action::DropWatches, Needs::Nothing)
        };
        if action.duration().is_some_and(|d| d.is_zero()) {
            self.err(
                key.key("for"),
                "lasts 0s: leave `for` out to mean until the end",
            );
        }
        let clusters = self.narrow(&key, &scope, explicit, &needs)?;
        Some(Step {
            at: s.at.0,
            clusters,
            action,
        })
    }

    /// The clusters of `scope` where the step's target exists; an error where it exists nowhere
    /// (or, for a named cluster, not there).
    fn narrow(
        &mut self,
        key: &Path,
        scope: &[&ClusterConfig],
        explicit: bool,
        needs: &Needs<'_>,
    ) -> Option<Vec<String>> {
        let f = self.fleet;
        let has = |c: &ClusterConfig| match needs {
            Needs::Nothing => true,
            Needs::App { namespace, app, .. } => {
                f.app(namespace, app).is_some_and(|a| f.runs_in(a, c))
            }
            Needs::Deployment {
                namespace,
                deployment,
            } => f
                .apps
                .iter()
                .filter(|a| a.namespace == *namespace)
                .any(|a| f.deployments(a, c).iter().any(|d| d.name == *deployment)),
        };
        let (field, what, namespace, name) = match needs {
            Needs::Nothing => return Some(scope.iter().map(|c| c.name.clone()).collect()),
            Needs::App {
                namespace,
                app,
                field,
            } => (*field, "app", *namespace, *app),
            Needs::Deployment {
                namespace,
                deployment,
            } => ("deployment", "deployment", *namespace, *deployment),
        };
        let clusters: Vec<String> = scope
            .iter()
            .filter(|c| has(c))
            .map(|c| c.name.clone())
            .collect();
        if clusters.is_empty() || (explicit && clusters.len() < scope.len()) {
            let known: Vec<String> = match needs {
                Needs::Deployment { .. } => f
                    .apps
                    .iter()
                    .filter(|a| a.namespace == namespace)
                    .flat_map(|a| {
                        f.clusters
                            .iter()
                            .flat_map(|c| f.deployments(a, c))
                            .map(|d| d.name)
                            .collect::<Vec<_>>()
                    })
                    .collect(),
                _ => f
                    .apps
                    .iter()
                    .filter(|a| a.namespace == namespace)
                    .map(|a| a.name.clone())
                    .collect(),
            };
            let exists_somewhere = known.iter().any(|k| k == name);
            let message = if !f.apps.iter().any(|a| a.namespace == namespace) {
                let spaces: Vec<&str> = f.apps.iter().map(|a| a.namespace.as_str()).collect();
                self.err(
                    key.key("namespace"),
                    format!(
                        "no app runs in namespace `{namespace}`{}",
                        did_you_mean(namespace, spaces)
                    ),
                );
                return None;
            } else if exists_somewhere {
                let wheres: Vec<&str> = scope.iter().map(|c| c.name.as_str()).collect();
                format!(
                    "{what} {namespace}/{name} does not run in {}",
                    wheres.join(", ")
                )
            } else {
                let mut known = known;
                known.sort();
                known.dedup();
                format!(
                    "no {what} `{name}` in namespace {namespace}{}; there are: {}",
                    did_you_mean(name, known.iter().map(String::as_str)),
                    known.join(", ")
                )
            };
            self.err(key.key(field), message);
            return None;
        }
        Some(clusters)
    }

    /// The container a `set-image` changes, checked against the Deployment's pods.
    fn set_image_container(
        &mut self,
        key: &Path,
        a: &super::model::SetImageConfig,
    ) -> Option<String> {
        let f = self.fleet;
        let app = f
            .apps
            .iter()
            .filter(|x| x.namespace == a.namespace)
            .find(|x| {
                f.clusters
                    .iter()
                    .any(|c| f.deployments(x, c).iter().any(|d| d.name == a.deployment))
            });
        let Some(app) = app else {
            // No such Deployment: `narrow` says so.
            return Some(a.container.clone().unwrap_or_default());
        };
        let containers: Vec<&str> = app.containers().into_iter().map(|(n, _)| n).collect();
        let container = a
            .container
            .clone()
            .unwrap_or_else(|| main_container(app.behaviour().kind).to_owned());
        if !containers.contains(&container.as_str()) {
            self.err(
                key.key("container"),
                format!(
                    "pods of {} have no container `{container}`{}; they have: {}",
                    a.deployment,
                    did_you_mean(&container, containers.iter().copied()),
                    containers.join(", ")
                ),
            );
            return None;
        }
        let known = f.repositories();
        if !known.contains(&a.image.repository) {
            self.err(
                key.key("image"),
                format!(
                    "no app of this fleet uses {}{}, so its pods would run the default app; add it as an app's image, or fix the name",
                    a.image.repository,
                    did_you_mean(&a.image.repository, known.iter().map(String::as_str))
                ),
            );
            return None;
        }
        Some(container)
    }
}
