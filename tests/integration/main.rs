//! Integration tests: the simulated fleet against real clients (kubectl, kube-rs) and bad input.

mod support;

mod apps;
mod bad_input;
mod console_kube;
mod demo_cli;
mod faults;
mod kube_client;
mod kubectl;
mod prometheus;
mod seeds;
