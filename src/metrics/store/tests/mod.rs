//! Tests of the store: the chunk encoding, the store's behaviour, and the range functions.

mod chunk;
mod functions;
mod store;
