//! Log tailing, pure: a line and its timestamp, JSON lines made readable, the regex filter, the
//! bounded ring buffer with its markers, and the outbox that counts what a slow console could not
//! take. The streams themselves are in `kube::logs`; the view's state in `state::logs`.

pub mod buffer;
pub mod filter;
pub mod line;
pub mod outbox;
pub mod source;

pub use buffer::{Entry, LogBuffer, Marker};
pub use filter::LogFilter;
pub use line::LogLine;
pub use outbox::Outbox;
pub use source::{SourceId, SourceKey};

#[cfg(test)]
mod tests;
