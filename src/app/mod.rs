//! The controller: the terminal guard, the event loop, and the runner that turns effects into
//! cluster I/O and sends the results back as messages.

pub mod alerts;
pub mod audit;
pub mod console;
pub mod dispatch;
pub mod event_loop;
pub mod scrape_cmd;
pub mod status;
pub mod terminal;
