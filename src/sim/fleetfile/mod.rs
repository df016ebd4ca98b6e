//! Fleet files: a YAML description of a simulated fleet (clusters, environments, namespaces with
//! quotas, apps and how they are released and behave, fault timelines), read with errors that name
//! the file, line, column and field, and turned into the Kubernetes objects each cluster starts with.
//!
//! ```text
//! let fleet = fleetfile::resolve("seeds")?;            // a built-in name, or a file path
//! for objects in fleet.objects() { objects.create_in(&cluster)?; }   // per cluster
//! fleet.catalog();  fleet.users;  fleet.default_scenario().steps;
//! ```
//!
//! `fleets/seeds.yaml` is the built-in fleet modelled on the five seed write-ups; `fleets/README.md`
//! documents the format.

mod apps;
mod de;
mod durations;
mod image;
mod model;
mod plan;
mod quota;
pub mod rules;
mod steps;
mod suggest;
mod timeline;
pub(crate) mod translate;
mod validate;
mod values;
mod yaml;

#[cfg(test)]
mod tests;

use std::fmt;

pub use durations::{Dur, format_duration, parse_duration};
pub use image::ImageRef;
pub use model::{
    AppConfig, BlueGreenConfig, CanaryConfig, ClusterConfig, HpaConfig, NamespaceConfig,
    QuotaConfig, Release, ResourcesConfig, Role, Slot, UserConfig,
};
pub use plan::{DeploymentPlan, Resources};
pub use quota::QuotaUse;
pub use timeline::{Action, CALM, PodTarget, Scenario, Step};
pub use translate::{ClusterObjects, SYSTEM_NAMESPACES, node_json, paths};
pub use values::{PerEnv, Quantity};
pub use yaml::Loc;

use model::FleetConfig;
use validate::Checker;
use yaml::Path;

/// The built-in fleet modelled on the seed write-ups.
pub const SEEDS: &str = include_str!("../../../fleets/seeds.yaml");

/// Built-in fleets by name: `(name, origin shown in errors, text)`.
pub const BUILTIN: &[(&str, &str, &str)] = &[
    ("seeds", "fleets/seeds.yaml", SEEDS),
    ("small", "fleets/small.yaml", SMALL),
];

/// The small fleet the tests use: one shop in four clusters, running the minimal app.
pub const SMALL: &str = include_str!("../../../fleets/small.yaml");

/// A fleet file that has been read and checked: every reference resolves, every name is valid.
#[derive(Clone, Debug)]
pub struct FleetFile {
    /// Where it came from, as errors name it (`fleets/seeds.yaml`).
    pub origin: String,
    pub name: String,
    pub description: Option<String>,
    pub clusters: Vec<ClusterConfig>,
    /// Who may use each cluster; the users of cluster `c` are `<name>@<c>`.
    pub users: Vec<UserConfig>,
    pub namespaces: Vec<NamespaceConfig>,
    pub apps: Vec<AppConfig>,
    /// In the file's order, then `calm`.
    pub scenarios: Vec<Scenario>,
    pub default_scenario: String,
}

/// Why a fleet file cannot be used: every problem found, each with its place.
#[derive(Clone, Debug, PartialEq)]
pub struct FleetFileError {
    pub origin: String,
    pub problems: Vec<Problem>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    pub loc: Option<Loc>,
    /// The field, like `apps[2].replicas.prod`; empty for the file as a whole.
    pub path: String,
    pub message: String,
}

impl fmt::Display for FleetFileError {
    /// One line per problem: `fleets/x.yaml:14:5: apps[2].replicas: expected …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            f.write_str(&self.origin)?;
            if let Some(loc) = p.loc {
                write!(f, ":{loc}")?;
            }
            if !p.path.is_empty() {
                write!(f, ": {}", p.path)?;
            }
            write!(f, ": {}", p.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for FleetFileError {}

impl FleetFileError {
    fn one(origin: &str, loc: Option<Loc>, path: String, message: String) -> Self {
        Self {
            origin: origin.to_owned(),
            problems: vec![Problem { loc, path, message }],
        }
    }
}

/// The users when a file names none: an admin and a read-only viewer.
fn default_users() -> Vec<UserConfig> {
    vec![
        UserConfig {
            name: "admin".into(),
            read_only: false,
        },
        UserConfig {
            name: "viewer".into(),
            read_only: true,
        },
    ]
}

/// Reads and checks a fleet file. `origin` names it in errors (a path, or `fleets/seeds.yaml`).
pub fn parse(text: &str, origin: &str) -> Result<FleetFile, FleetFileError> {
    let root = yaml::parse(text)
        .map_err(|e| FleetFileError::one(origin, e.loc, String::new(), e.message))?;
    let doc: FleetConfig = de::from_node(&root, Path::default()).map_err(|e| {
        let (loc, path) = match e.at {
            Some((loc, path)) => (Some(loc), path.to_string()),
            None => (None, String::new()),
        };
        FleetFileError::one(origin, loc, path, e.message)
    })?;
    let mut fleet = FleetFile {
        origin: origin.to_owned(),
        name: doc.name,
        description: doc.description,
        clusters: doc.clusters,
        users: doc.users.unwrap_or_else(default_users),
        namespaces: doc.namespaces,
        apps: doc.apps,
        scenarios: Vec::new(),
        default_scenario: String::new(),
    };
    let mut checker = Checker::new(&fleet);
    checker.check_all();
    let scenarios = checker.scenarios(&doc.scenarios.0);
    let default_scenario = match doc.default_scenario {
        Some(name) => {
            if !scenarios.iter().any(|s| s.name == name) {
                let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                checker.err(
                    Path::default().key("default-scenario"),
                    format!(
                        "no scenario `{name}`{}; scenarios: {}",
                        suggest::did_you_mean(&name, names.iter().copied()),
                        names.join(", ")
                    ),
                );
            }
            name
        }
        None => scenarios[0].name.clone(),
    };
    let mut issues = checker.issues;
    // A setting shared by several clusters can fail the same way in each: say it once.
    let mut seen = Vec::new();
    issues.retain(|i| {
        let key = (i.path.clone(), i.message.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    if !issues.is_empty() {
        let mut problems: Vec<Problem> = issues
            .into_iter()
            .map(|i| Problem {
                // An empty value (`blue-green:`) has no text of its own: point at its key.
                loc: Some(
                    if i.on_key || root.find(&i.path).value == yaml::Value::Null {
                        root.key_loc(&i.path)
                    } else {
                        root.find(&i.path).loc
                    },
                ),
                path: i.path.to_string(),
                message: i.message,
            })
            .collect();
        // In the order of the file, as a person fixes them.
        problems.sort_by_key(|p| p.loc.map(|l| (l.line, l.column)));
        return Err(FleetFileError {
            origin: origin.to_owned(),
            problems,
        });
    }
    fleet.scenarios = scenarios;
    fleet.default_scenario = default_scenario;
    Ok(fleet)
}

/// Reads and checks the fleet file at `path`.
pub fn load(path: &std::path::Path) -> Result<FleetFile, FleetFileError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        FleetFileError::one(
            &origin,
            None,
            String::new(),
            format!("cannot read the fleet file: {e}"),
        )
    })?;
    parse(&text, &origin)
}

/// A built-in fleet by name (`seeds`), or else the fleet file at that path.
pub fn resolve(name_or_path: &str) -> Result<FleetFile, FleetFileError> {
    match BUILTIN.iter().find(|(name, _, _)| *name == name_or_path) {
        Some((_, origin, text)) => parse(text, origin),
        None => {
            let path = std::path::Path::new(name_or_path);
            load(path).map_err(|mut e| {
                // A bare word that is no file was most likely meant as a built-in name.
                if !path.exists() && !name_or_path.contains(['/', '.']) {
                    let names: Vec<&str> = BUILTIN.iter().map(|(n, _, _)| *n).collect();
                    e.problems[0].message = format!(
                        "no built-in fleet and no file of that name{}; built-in fleets: {}",
                        suggest::did_you_mean(name_or_path, names.iter().copied()),
                        names.join(", ")
                    );
                }
                e
            })
        }
    }
}

/// The built-in fleet modelled on the seeds.
pub fn builtin() -> FleetFile {
    parse(SEEDS, "fleets/seeds.yaml").expect("the built-in fleet is valid: its tests say so")
}
