//! Metrics: the exposition-format parser ([`expo`]), the in-memory series store ([`store`]) and
//! the scrapers that fill it ([`scrape`]).

pub mod expo;
pub mod golden;
pub mod ingest;
pub mod queries;
pub mod remote;
pub mod runtime;
pub mod scrape;
pub mod signals;
pub mod store;
