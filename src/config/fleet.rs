//! Which clusters to watch, grouped into environments: the config file's environments, the
//! kubeconfig's contexts and the command line's choices (`--context`, `--all-contexts`, `--env`,
//! `--readonly`) resolved into plain data for the app. No cluster is contacted here.

use std::collections::HashSet;

use super::kubeconfig::LoadedKubeconfig;
use super::{Config, ConfigError};

/// What the command line asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// `--context`, in the order given; empty: see `resolve`.
    pub contexts: Vec<String>,
    /// `--all-contexts`.
    pub all_contexts: bool,
    /// `--env`: only these environments.
    pub environments: Vec<String>,
    /// `--readonly`: no mutating action anywhere.
    pub readonly: bool,
}

/// The fleet to watch: environments in display order and their clusters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetLayout {
    pub environments: Vec<EnvLayout>,
    /// Ordered by environment, then as listed (config order, or the command line's).
    pub clusters: Vec<ClusterLayout>,
    /// `--readonly`: every environment is read-only this session.
    pub readonly: bool,
    /// Things the user should know (contexts named in the config file that the kubeconfig lacks).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvLayout {
    pub name: String,
    /// As configured: a theme env colour name or a colour (see `Palette::env_color`).
    pub color: Option<String>,
    pub protected: bool,
    pub readonly: bool,
    /// Empty: every namespace.
    pub namespaces: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterLayout {
    /// The kubeconfig context.
    pub context: String,
    /// Index into `FleetLayout::environments`.
    pub env: usize,
    /// What to print in a column: the part that tells the environment's clusters apart
    /// (`prod-eastus` in `prod` is `eastus`), or the whole context when it is alone.
    pub short: String,
}

impl FleetLayout {
    /// Whether mutating actions on a cluster are refused, by `--readonly` or its environment.
    pub fn is_readonly(&self, cluster: usize) -> bool {
        self.readonly
            || self
                .clusters
                .get(cluster)
                .is_none_or(|c| self.environments[c.env].readonly)
    }
}

/// Resolves the fleet. Contexts: `--context`s, else `--all-contexts`, else the contexts of the
/// `--env` environments, else every context the config file's environments list, else (no
/// environments configured) the kubeconfig's current context, as kubectl would use. A context
/// the config file puts in an environment always carries that environment's protection.
pub fn resolve(
    config: &Config,
    kube: &LoadedKubeconfig,
    sel: &Selection,
) -> Result<FleetLayout, ConfigError> {
    let known = kube.context_names();
    let mut warnings = Vec::new();
    let files = kube.describe_files();

    let missing: Vec<&String> = sel
        .contexts
        .iter()
        .filter(|c| !known.contains(&c.as_str()))
        .collect();
    if !missing.is_empty() {
        let names: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
        return Err(ConfigError::Invalid(format!(
            "no context named {} in the kubeconfig ({files}); it has: {}",
            names.join(", "),
            list_or_none(&known)
        )));
    }
    // Configured contexts this kubeconfig lacks: another engineer's config, or a renamed context.
    let configured: Vec<&str> = config
        .environments
        .iter()
        .flat_map(|e| e.contexts.iter().map(String::as_str))
        .collect();
    let config_names: Vec<&str> = config
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    for env in &config.environments {
        for c in env.contexts.iter().filter(|c| !known.contains(&c.as_str())) {
            warnings.push(format!(
                "environment {}: context {c} is not in the kubeconfig ({files}); it is left out",
                env.name
            ));
        }
    }
    // Contexts in no environment are environments of their own, named after the context.
    let lone: Vec<(&str, String)> = known
        .iter()
        .copied()
        .filter(|c| !configured.contains(c))
        .map(|c| {
            if config_names.contains(&c) {
                warnings.push(format!(
                    "context {c} is in no environment but has the name of one; it is shown as environment \"{c} (context)\""
                ));
                (c, format!("{c} (context)"))
            } else {
                (c, c.to_string())
            }
        })
        .collect();
    let mut env_names = config_names.clone();
    env_names.extend(lone.iter().map(|(_, name)| name.as_str()));
    for e in &sel.environments {
        if !env_names.contains(&e.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "no environment named {e}; there are: {}",
                list_or_none(&env_names)
            )));
        }
    }

    let chosen: Vec<&str> = if !sel.contexts.is_empty() {
        let mut seen = HashSet::new();
        sel.contexts
            .iter()
            .map(String::as_str)
            .filter(|c| seen.insert(*c))
            .collect()
    } else if sel.all_contexts {
        known.clone()
    } else if !sel.environments.is_empty() || !config.environments.is_empty() {
        // The environments' own contexts; a lone context is its own environment.
        let mut all: Vec<&str> = configured
            .iter()
            .copied()
            .filter(|c| known.contains(c))
            .collect();
        if !sel.environments.is_empty() {
            all.extend(lone.iter().map(|(c, _)| *c));
        }
        all
    } else {
        match kube.kubeconfig.current_context.as_deref() {
            Some(c) if known.contains(&c) => vec![c],
            Some(c) => {
                return Err(ConfigError::Invalid(format!(
                    "the current context {c} is not in the kubeconfig ({files}); choose with --context NAME or --all-contexts (contexts: {})",
                    list_or_none(&known)
                )));
            }
            None if known.is_empty() => {
                return Err(ConfigError::Invalid(format!(
                    "the kubeconfig ({files}) has no contexts; point --kubeconfig or KUBECONFIG at one that has"
                )));
            }
            None => {
                return Err(ConfigError::Invalid(format!(
                    "the kubeconfig ({files}) sets no current context; choose with --context NAME or --all-contexts (contexts: {})",
                    known.join(", ")
                )));
            }
        }
    };

    let mut layout = FleetLayout {
        readonly: sel.readonly,
        warnings,
        ..FleetLayout::default()
    };
    let wanted =
        |name: &str| sel.environments.is_empty() || sel.environments.iter().any(|e| e == name);
    for env in config.environments.iter().filter(|e| wanted(&e.name)) {
        let members: Vec<&str> = env
            .contexts
            .iter()
            .map(String::as_str)
            .filter(|c| chosen.contains(c))
            .collect();
        push_env(&mut layout, env_layout(env), &members);
    }
    for &c in &chosen {
        let Some((_, name)) = lone.iter().find(|(l, _)| *l == c) else {
            continue;
        };
        if wanted(name) {
            let env = EnvLayout {
                name: name.clone(),
                ..EnvLayout::default()
            };
            push_env(&mut layout, env, &[c]);
        }
    }
    if layout.clusters.is_empty() {
        let picked = !sel.contexts.is_empty() || sel.all_contexts;
        let message = if picked {
            format!(
                "no cluster to watch: none of the chosen contexts ({}) is in --env {}",
                list_or_none(&chosen),
                sel.environments.join(", ")
            )
        } else {
            let asked: Vec<&str> = config
                .environments
                .iter()
                .filter(|e| wanted(&e.name))
                .flat_map(|e| e.contexts.iter().map(String::as_str))
                .collect();
            format!(
                "no cluster to watch: none of the environments' contexts ({}) is in the kubeconfig ({files}); choose with --context NAME or --all-contexts (contexts: {})",
                list_or_none(&asked),
                list_or_none(&known)
            )
        };
        return Err(ConfigError::Invalid(message));
    }
    Ok(layout)
}

fn env_layout(env: &super::EnvironmentConfig) -> EnvLayout {
    EnvLayout {
        name: env.name.clone(),
        color: env.color.clone(),
        protected: env.protected,
        readonly: env.readonly,
        namespaces: env.namespaces.clone(),
    }
}

fn push_env(layout: &mut FleetLayout, env: EnvLayout, members: &[&str]) {
    if members.is_empty() {
        return;
    }
    let index = layout.environments.len();
    let shorts = short_names(members, &env.name);
    layout.environments.push(env);
    for (context, short) in members.iter().zip(shorts) {
        layout.clusters.push(ClusterLayout {
            context: context.to_string(),
            env: index,
            short,
        });
    }
}

fn list_or_none(names: &[&str]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

const SEPARATORS: &[char] = &['-', '_', '.', ':', '/', '@'];

/// The part of each context that tells an environment's clusters apart: `prod-eastus` and
/// `prod-westus` in `prod` are `eastus` and `westus`; GKE's `gke_proj_us-east1_prod` and
/// `gke_proj_europe-west1_prod` are `us-east1` and `europe-west1`. Falls back to the whole names
/// when no shorter form keeps them distinct.
pub fn short_names(contexts: &[&str], env: &str) -> Vec<String> {
    let whole = || contexts.iter().map(|c| c.to_string()).collect();
    if contexts.len() < 2 {
        return whole();
    }
    let distinct = |names: &[&str]| {
        names.iter().all(|n| !n.is_empty())
            && names.iter().collect::<HashSet<_>>().len() == names.len()
    };
    let stripped: Vec<&str> = contexts
        .iter()
        .filter_map(|c| c.strip_prefix(env)?.strip_prefix(SEPARATORS))
        .collect();
    if stripped.len() == contexts.len() && distinct(&stripped) {
        return stripped.iter().map(|s| s.to_string()).collect();
    }
    // Separator-delimited words as byte ranges; drop the words all contexts share at both ends.
    let words: Vec<Vec<(usize, usize)>> = contexts.iter().map(|c| word_spans(c)).collect();
    let shortest = words.iter().map(Vec::len).min().unwrap_or(0);
    // The text of word `k` of context `j`, counted from the front or from the back.
    let word = |j: usize, k: usize, from_back: bool| {
        let w = &words[j];
        let (s, e) = if from_back { w[w.len() - 1 - k] } else { w[k] };
        &contexts[j][s..e]
    };
    let shared = |k: usize, from_back: bool| {
        (1..contexts.len()).all(|j| word(j, k, from_back) == word(0, k, from_back))
    };
    let mut front = 0;
    while front + 1 < shortest && shared(front, false) {
        front += 1;
    }
    let mut back = 0;
    while front + back + 1 < shortest && shared(back, true) {
        back += 1;
    }
    // A bare number (`1` of `us-east-1`) says little: keep the word before it.
    loop {
        let middles: Vec<&str> = contexts
            .iter()
            .zip(&words)
            .map(|(c, w)| &c[w[front].0..w[w.len() - 1 - back].1])
            .collect();
        let numeric = middles
            .iter()
            .any(|m| m.chars().all(|ch| ch.is_ascii_digit()));
        if numeric && front > 0 {
            front -= 1;
            continue;
        }
        return if distinct(&middles) {
            middles.iter().map(|m| m.to_string()).collect()
        } else {
            whole()
        };
    }
}

fn word_spans(s: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        if SEPARATORS.contains(&ch) {
            if i > start {
                spans.push((start, i));
            }
            start = i + ch.len_utf8();
        }
    }
    if start < s.len() {
        spans.push((start, s.len()));
    }
    if spans.is_empty() {
        spans.push((0, s.len()));
    }
    spans
}

#[cfg(test)]
mod tests;
