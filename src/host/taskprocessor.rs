//! Asterisk's taskprocessor queues and overload alert (asterisk/taskprocessor.h), read to pace
//! our publishing (see `crate::domain::pacing`).
//!
//! Asterisk has no call that lists taskprocessors, but stasis names each subscription's queue
//! `stasis/<m|p>:<topic>-<8 hex digits>`, the digits taken from the global
//! `ast_taskprocessor_seq_num()` counter (the same on branches 20 to 23). [`ConsumerQueues`]
//! finds the queues of the topics an MWI publish feeds by trying those names for every sequence
//! number handed out so far, then for new ones only, and reads their depth by name (holding no
//! reference between reads: a subscriber that goes away is not kept alive by us).

use std::ffi::CString;
use std::time::{Duration, Instant};

use super::sys;

/// Whether some taskprocessor is over its high-water mark now (res_pjsip then drops new
/// incoming requests).
pub fn overload_alert() -> bool {
    // SAFETY: reads a global counter; no arguments.
    unsafe { sys::ast_taskprocessor_alert_get() > 0 }
}

/// The topics whose consumers an MWI publish of ours gives work: the MWI topic itself, the
/// device-state topic (res_mwi_devstate turns each MWI state into a device state) and the
/// manager's (AMI MessageWaiting events).
const TOPICS: [&str; 3] = ["mwi:all", "devicestate:all", "manager:core"];

/// How often new taskprocessors are looked for.
const RESCAN_EVERY: Duration = Duration::from_secs(1);

/// The queues of the consumers of [`TOPICS`], found by name.
pub struct ConsumerQueues {
    names: Vec<CString>,
    /// Sequence numbers below this one have been tried.
    scanned_to: u32,
    last_scan: Option<Instant>,
}

/// A counted reference to a taskprocessor, released on drop.
///
/// # Invariants
/// `tps` is non-NULL and carries one reference we own.
struct TpsRef {
    tps: *mut sys::ast_taskprocessor,
}

impl TpsRef {
    fn existing(name: &CString) -> Option<Self> {
        // SAFETY: NUL-terminated name alive for the call; with TPS_REF_IF_EXISTS nothing is
        // created, and a non-NULL result carries a reference we own.
        let tps = unsafe { sys::ast_taskprocessor_get(name.as_ptr(), sys::TPS_REF_IF_EXISTS) };
        (!tps.is_null()).then_some(Self { tps })
    }

    fn size(&self) -> u64 {
        // SAFETY: a live taskprocessor we hold a reference to (invariant).
        unsafe { sys::ast_taskprocessor_size(self.tps) }.max(0) as u64
    }
}

impl Drop for TpsRef {
    fn drop(&mut self) {
        // SAFETY: releases the one reference we own (invariant).
        unsafe { sys::ast_taskprocessor_unreference(self.tps) };
    }
}

impl ConsumerQueues {
    pub fn new() -> Self {
        Self { names: Vec::new(), scanned_to: 0, last_scan: None }
    }

    /// Tries the names of sequence numbers handed out since the last scan.
    fn rescan(&mut self, now: Instant) {
        if self.last_scan.is_some_and(|t| now.duration_since(t) < RESCAN_EVERY) {
            return;
        }
        self.last_scan = Some(now);
        // SAFETY: increments and returns a global counter (it costs one number, unused).
        let top = unsafe { sys::ast_taskprocessor_seq_num() };
        for seq in self.scanned_to..top {
            for topic in TOPICS {
                for kind in ['m', 'p'] {
                    let Ok(name) = CString::new(format!("stasis/{kind}:{topic}-{seq:08x}")) else { continue };
                    if TpsRef::existing(&name).is_some() {
                        self.names.push(name);
                    }
                }
            }
        }
        self.scanned_to = top;
    }

    /// Tasks waiting in the deepest of those queues; forgets queues that are gone.
    pub fn deepest(&mut self) -> u64 {
        self.rescan(Instant::now());
        let mut deepest = 0;
        self.names.retain(|name| match TpsRef::existing(name) {
            Some(tps) => {
                deepest = deepest.max(tps.size());
                true
            }
            None => false,
        });
        deepest
    }

    /// How many queues are watched.
    pub fn watched(&self) -> usize {
        self.names.len()
    }
}
