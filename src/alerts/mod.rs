//! Alert rules (issue 7): rule files, the PromQL evaluator, the alert state machine, templates,
//! `watchfloor rules test`, and the Prometheus/Alertmanager clients that give the remote truth.
//!
//! Data flow: rule files ([`rulefile`]) are parsed and checked once; every group runs at its
//! interval ([`rules`]) against a [`promql::Queryable`] (the scraped series store in the console,
//! an in-memory series set in `rules test`), through the evaluator ([`promql`]); the results and
//! the remote state ([`remote`]) become [`model::Alert`]s that the UI shows.

pub mod model;
pub mod notation;
pub mod promql;
pub mod remote;
pub mod rulefile;
pub mod rules;
pub mod runtime;
pub mod template;
pub mod unittest;
