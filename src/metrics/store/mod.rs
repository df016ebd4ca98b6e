//! The in-memory series store.
