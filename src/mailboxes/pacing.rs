//! Holds our MWI publishing back while Asterisk is overloaded (the decisions are in
//! `crate::domain::pacing`): before each small batch, the publishing thread and the background
//! republish ask [`Pacing::wait_for_room`], which reads Asterisk's overload alert and the depth
//! of the MWI topic's consumer queues and waits while the pacer says so.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::pacing::{Episode, Load, Pace, Pacer, PacingStats};
use crate::domain::sync::lock;
use crate::host::log::ast_notice;
use crate::host::taskprocessor::{self, ConsumerQueues};

/// Tasks a consumer queue of the MWI topic may hold before we wait: a fifth of Asterisk's
/// default high-water mark (500), so a batch on top never gets near it.
const SOFT_LIMIT: u64 = 100;
/// Longest wait per batch: an overload that is not ours (a queue that never drains) slows our
/// publishing to one batch per this, never stops it.
const MAX_HOLD: Duration = Duration::from_secs(2);

struct State {
    pacer: Pacer,
    queues: ConsumerQueues,
}

/// Shared by the publishing thread and the republish.
pub struct Pacing {
    state: Mutex<State>,
    /// The background republish is running (publishing running dry does not end an episode).
    background: AtomicBool,
    /// Unloading: no more waiting.
    stopped: AtomicBool,
}

impl Pacing {
    pub fn new() -> Self {
        #[allow(unused_mut)]
        let mut pacer = Pacer::new(SOFT_LIMIT, MAX_HOLD);
        // The test build starts without pacing when this file exists, so a test can show what
        // a load without it does to Asterisk.
        #[cfg(feature = "test-hooks")]
        pacer.set_enabled(!std::path::Path::new("/tmp/res_mwi_hub-test-no-pacing").exists());
        Self {
            state: Mutex::new(State { pacer, queues: ConsumerQueues::new() }),
            background: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        }
    }

    /// Waits until Asterisk has room for the next batch, or `stop()` says to give up waiting.
    pub fn wait_for_room(&self, stop: impl Fn() -> bool) {
        let stop = || stop() || self.stopped.load(Ordering::SeqCst);
        if stop() {
            return;
        }
        loop {
            // The lock is not held while sleeping: `mwi show status` reads the stats meanwhile.
            let (pace, episode, load) = {
                let mut state = lock(&self.state);
                let load =
                    Load { alert: taskprocessor::overload_alert(), deepest_queue: state.queues.deepest() };
                let (pace, episode) = state.pacer.check(Instant::now(), load);
                (pace, episode, load)
            };
            tell(episode, load);
            match pace {
                Pace::Go => return,
                Pace::Wait(_) if stop() => return,
                Pace::Wait(wait) => std::thread::sleep(wait),
            }
        }
    }

    /// From now on (unload) nobody waits: a wait going on ends within one step.
    pub fn stop_waiting(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// Publishing ran dry: an episode going on is over, unless the republish still runs.
    pub fn idle(&self) {
        if !self.background.load(Ordering::SeqCst) {
            let episode = lock(&self.state).pacer.idle(Instant::now());
            tell(episode, Load::default());
        }
    }

    /// The background republish starts (true) or ends (false).
    pub fn set_background(&self, running: bool) {
        self.background.store(running, Ordering::SeqCst);
        if !running {
            self.idle();
        }
    }

    pub fn stats(&self) -> (PacingStats, usize) {
        let state = lock(&self.state);
        (state.pacer.stats(), state.queues.watched())
    }

    /// The test build compares publishing with and without pacing.
    #[cfg(feature = "test-hooks")]
    pub fn set_enabled(&self, enabled: bool) {
        lock(&self.state).pacer.set_enabled(enabled);
    }
}

fn tell(episode: Option<Episode>, load: Load) {
    match episode {
        None => {}
        Some(Episode::Started) => ast_notice!(
            "res_mwi_hub: Asterisk is busy ({}); holding MWI publishing back so that it keeps answering SIP requests",
            if load.alert {
                "a taskprocessor is over its high-water mark".to_owned()
            } else {
                format!("{} MWI tasks queued in one of its consumers", load.deepest_queue)
            }
        ),
        Some(Episode::Ended { held, lasted }) => ast_notice!(
            "res_mwi_hub: MWI publishing no longer held back (held {:.1} s over {:.1} s)",
            held.as_secs_f64(),
            lasted.as_secs_f64()
        ),
    }
}
