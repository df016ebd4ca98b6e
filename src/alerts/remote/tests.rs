//! Unit tests: parsing of real server answers (captured from Debian's Prometheus 2.42 and
//! Alertmanager 0.25, see `testdata/`) and of broken ones, the merge's every branch, and the
//! HTTP client against a loopback fake (timeouts, refusals, credentials).

mod merge;
mod net;
mod parse;
