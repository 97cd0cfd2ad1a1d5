//! res_mwi_hub: an Asterisk loadable module that owns Message Waiting Indication coming from
//! outside Asterisk.
//!
//! Layers (a change finds its room by folder; README's Layout table says which):
//! - `host`: the safe wrapper layer over Asterisk (module registration and teardown, the entry
//!   guard and gate, logging, ao2 references, stasis/MWI, CLI, AMI, config, astdb, voicemail
//!   provider, pjsip). Its values own their registrations and undo them on drop; they take
//!   plain Rust types, and no Asterisk type leaks past it. The raw bindgen declarations
//!   (`host::sys`, from `asterisk-headers/`) are private to it: nothing else can name them.
//! - [`domain`]: plain Rust with no FFI (mailbox ids, counts, the store, the publish queue,
//!   parsers, incoming-NOTIFY decisions, command parsing and formatting), unit-tested with
//!   `cargo test`.
//! - `mailboxes`: external mailboxes (store + bus, publishing thread, republish, CLI, AMI,
//!   voicemail provider, migration), written against `host` and `domain`.
//! - `incoming`: incoming MWI NOTIFYs (pjsip services, endpoint mappings).
//! - `outbound`: outbound MWI subscriptions (pjsip.conf type, running subscriptions, CLI, AMI).
//! - `admin`: the MWI state tools (CLI) and the test build's hooks.
//! - `hub`: the module itself: what `load_module` builds; dropping it is the teardown.
//!
//! `cargo test` builds only `domain`: the other layers reference symbols that exist only inside
//! the asterisk executable, so a test binary containing them could not link.

pub mod domain;

#[cfg(not(test))]
mod admin;
#[cfg(not(test))]
mod host;
#[cfg(not(test))]
mod hub;
#[cfg(not(test))]
mod incoming;
#[cfg(not(test))]
mod mailboxes;
#[cfg(not(test))]
mod outbound;
