//! watchfloor: a terminal console for on-call engineers running several Kubernetes clusters.
//!
//! Module map (see `../shared/DESIGN.md` §1):

/// The vocabulary of the keymap.
pub mod action;
/// Alert rules: rule files, PromQL evaluation, the alert state machine, remote alert state.
pub mod alerts;
/// The controller: terminal guard, event loop, effect runner.
pub mod app;
/// The command-line surface (clap definitions).
pub mod cli;
/// Config file, keymaps and themes.
pub mod config;
/// Cluster I/O: clients, watchers, compact rows.
pub mod kube;
/// Log tailing, pure: lines, JSON rendering, the filter, the ring buffer with its markers.
pub mod logs;
/// Metrics: exposition parser, scrapers, series store.
pub mod metrics;
/// The simulated fleet: Kubernetes API servers, controllers and apps for tests and the demo.
pub mod sim;
/// The pure model: `update(&mut State, Msg, now) -> Vec<Effect>`.
pub mod state;
/// Pure rendering of the state.
pub mod view;
