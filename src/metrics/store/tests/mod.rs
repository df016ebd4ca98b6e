//! Tests of the store: the chunk encoding, one series' reads, the store's behaviour, and the
//! range functions.

mod chunk;
mod functions;
mod series;
mod store;
