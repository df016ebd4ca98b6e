//! Metrics: the exposition-format parser ([`expo`]), the in-memory series store ([`store`]) and
//! the scrapers that fill it ([`scrape`]).

pub mod expo;
pub mod remote;
pub mod scrape;
pub mod store;
