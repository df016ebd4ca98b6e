//! Configuration: the config file, keymaps and themes, read into validated values plus a list of
//! warnings for the UI.

pub mod keymap;
pub mod theme;
