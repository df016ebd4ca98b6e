//! watchfloor: a terminal console for on-call engineers running several Kubernetes clusters.
//!
//! Module map (see `../shared/DESIGN.md` §1):

/// The command-line surface (clap definitions).
pub mod cli;
/// The simulated fleet: Kubernetes API servers, controllers and apps for tests and the demo.
pub mod sim;
