//! The simulated fleet: Kubernetes API servers on loopback that the real kubectl and kube-rs accept.
//!
//! This is test infrastructure and a demo, never a dependency of the console's own code.

pub mod api;
pub mod app;
pub mod authz;
pub mod clock;
pub mod cluster;
pub mod controllers;
pub mod defaults;
pub mod delete;
pub mod demo;
pub mod discovery;
pub mod duration;
pub mod events;
pub mod faults;
pub mod fleet;
pub mod fleetfile;
pub mod http;
pub mod kinds;
pub mod kubelet;
pub mod logs;
pub mod object;
pub mod patch;
pub mod protobuf;
pub mod proxy;
pub mod quantity;
pub mod resource;
pub mod scale;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
pub mod timeline;
pub mod tls;
pub mod views;
pub mod watch;
pub mod world;
pub mod write;
