//! (temporary: machine only until rulefile lands)
pub mod machine;
#[cfg(test)]
mod tests;
