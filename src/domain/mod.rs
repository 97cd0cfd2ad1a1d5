//! Domain logic in plain Rust: no FFI, no Asterisk symbol. Unit-tested with `cargo test`.

pub mod counts;
pub mod host_version;
pub mod mailbox;
pub mod state;
pub mod state_commands;
pub mod store;
