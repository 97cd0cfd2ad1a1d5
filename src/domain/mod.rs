//! Domain logic in plain Rust: no FFI, no Asterisk symbol. Unit-tested with `cargo test`.

pub mod ari_mailboxes;
pub mod chan_sip_mwi;
pub mod config;
pub mod counts;
pub mod host_version;
pub mod incoming;
pub mod mailbox;
pub mod mailbox_commands;
pub mod message_summary;
pub mod pacing;
pub mod provider;
pub mod publish_queue;
pub mod state;
pub mod state_commands;
pub mod status;
pub mod store;
pub mod subscription;
pub mod sync;
pub mod text;
