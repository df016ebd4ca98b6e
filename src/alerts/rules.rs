//! (issue 7, being built this session)
