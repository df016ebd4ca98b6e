//! Integration tests: the simulated fleet against real clients (kubectl, kube-rs) and bad input.

mod support;

mod actions_kube;
mod alerts_e2e;
mod alerts_remote;
mod apps;
mod bad_input;
mod config_cli;
mod console_flow;
mod console_kube;
mod console_tmux;
mod demo_cli;
mod exposition;
mod faults;
mod kube_client;
mod kubectl;
mod logs;
mod metrics;
mod prometheus;
mod promqltest;
mod remote_golden;
mod remote_panel;
mod rules_check;
mod rules_test;
mod scrape;
mod seeds;
mod status_cli;
