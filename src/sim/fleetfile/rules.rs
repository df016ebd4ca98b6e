//! The seed fleet's alerting and recording rules (fleets/rules/), built into the binary so
//! `watchfloor demo` can write them next to its kubeconfig and load them like any user's files.
//! They are Prometheus rule files: the same text a real Prometheus scraping the fleet loads.

/// The seed fleet's rule files, as (file name, contents), in the order a configuration lists them.
pub const SEED_RULES: [(&str, &str); 4] = [
    (
        "arq.rules.yml",
        include_str!("../../../fleets/rules/arq.rules.yml"),
    ),
    (
        "arxos.rules.yml",
        include_str!("../../../fleets/rules/arxos.rules.yml"),
    ),
    (
        "platform.rules.yml",
        include_str!("../../../fleets/rules/platform.rules.yml"),
    ),
    (
        "slo.rules.yml",
        include_str!("../../../fleets/rules/slo.rules.yml"),
    ),
];

/// The directory, next to the kubeconfig, the demo writes [`SEED_RULES`] into.
pub const RULES_DIR: &str = "rules";

/// The rule files of a built-in fleet: the seed fleet has them; others (and fleet files) none.
pub fn for_fleet(name: &str) -> &'static [(&'static str, &'static str)] {
    match name {
        "seeds" => &SEED_RULES,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_seed_rule_file_is_embedded_under_its_own_name() {
        let files = super::for_fleet("seeds");
        assert_eq!(files.len(), 4);
        for (name, text) in files {
            assert!(name.ends_with(".rules.yml"), "{name}");
            assert!(text.contains("groups:"), "{name}");
        }
        assert!(super::for_fleet("small").is_empty());
    }
}
