//! When to hold MWI publishing back so that Asterisk stays responsive.
//!
//! While any taskprocessor of Asterisk is over its high-water mark (500 queued tasks by
//! default), res_pjsip drops every new incoming SIP request (`taskprocessor_overload_trigger =
//! global`). A publish of ours queues work for every consumer of the MWI topic (the manager,
//! res_mwi_devstate and, behind it, the device-state consumers), and a few thousand publishes in
//! a row put their queues over that mark. So before each small batch the publisher asks a
//! [`Pacer`], given what Asterisk shows ([`Load`]): go, or wait this long and ask again.
//!
//! - The alert set (some queue over its mark): hold, with a back-off from 2 ms doubling to
//!   100 ms.
//! - The deepest queue of the MWI consumers above [`Pacer::new`]'s `soft_limit` (well below the
//!   mark, so a batch on top of it cannot reach the mark): hold for the shortest step; those
//!   queues drain in milliseconds.
//! - A hold lasts at most `max_hold` per batch: an overload that is not ours (a queue that never
//!   drains) slows our publishing down to one batch per `max_hold`, never stops it.
//!
//! Holds are grouped into episodes for the admin: an episode starts with the first hold and
//! ends once publishing went on for [`QUIET`] without one (or ran out of work), so the log gets
//! one line when pacing starts holding back and one when it stops.

use std::time::{Duration, Instant};

/// First wait of a hold; doubled at each further check of the same hold.
pub const FIRST_WAIT: Duration = Duration::from_millis(2);
/// Longest single wait.
pub const LONGEST_WAIT: Duration = Duration::from_millis(100);
/// How long publishing must go on without a hold before an episode counts as over.
pub const QUIET: Duration = Duration::from_secs(2);

/// What Asterisk shows before a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Load {
    /// Some taskprocessor is over its high-water mark (`ast_taskprocessor_alert_get() > 0`).
    pub alert: bool,
    /// Tasks waiting in the deepest queue of the MWI topic's consumers.
    pub deepest_queue: u64,
}

/// The pacer's answer for the next batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    Go,
    /// Sleep this long, then ask again with a fresh [`Load`].
    Wait(Duration),
}

/// A change the admin is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Episode {
    Started,
    /// Ended: how long publishing was held back during the episode, and how long it lasted.
    Ended {
        held: Duration,
        lasted: Duration,
    },
}

/// Totals for `mwi show status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PacingStats {
    /// Time publishing waited for Asterisk since load.
    pub held: Duration,
    /// Episodes since load.
    pub episodes: u64,
    /// Whether an episode is going on.
    pub holding_back: bool,
}

#[derive(Debug, Clone, Copy)]
struct Hold {
    started: Instant,
    next_wait: Duration,
}

#[derive(Debug, Clone, Copy)]
struct EpisodeState {
    started: Instant,
    held: Duration,
    last_hold_end: Instant,
}

/// See the module documentation.
#[derive(Debug)]
pub struct Pacer {
    soft_limit: u64,
    max_hold: Duration,
    enabled: bool,
    hold: Option<Hold>,
    episode: Option<EpisodeState>,
    stats: PacingStats,
}

impl Pacer {
    pub fn new(soft_limit: u64, max_hold: Duration) -> Self {
        Self { soft_limit, max_hold, enabled: true, hold: None, episode: None, stats: PacingStats::default() }
    }

    /// Switched off, every batch goes at once (the test build compares both).
    pub fn set_enabled(&mut self, enabled: bool) {
        self.enabled = enabled;
    }

    pub fn stats(&self) -> PacingStats {
        PacingStats { holding_back: self.episode.is_some(), ..self.stats }
    }

    /// Decides about the next batch at `now`, given `load`; the episode change, if any, is for
    /// the log.
    pub fn check(&mut self, now: Instant, load: Load) -> (Pace, Option<Episode>) {
        let overloaded = load.alert || load.deepest_queue > self.soft_limit;
        let hold_expired = self.hold.is_some_and(|h| now.duration_since(h.started) >= self.max_hold);
        if !self.enabled || !overloaded || hold_expired {
            return (Pace::Go, self.release(now));
        }
        let mut told = None;
        if self.episode.is_none() {
            self.episode = Some(EpisodeState { started: now, held: Duration::ZERO, last_hold_end: now });
            self.stats.episodes += 1;
            told = Some(Episode::Started);
        }
        let hold = self.hold.get_or_insert(Hold { started: now, next_wait: FIRST_WAIT });
        // Our own backlog drains fast: the shortest step. The alert clears only well below the
        // mark (at 90%): back off.
        let wait = if load.alert { hold.next_wait } else { FIRST_WAIT };
        hold.next_wait = (hold.next_wait * 2).min(LONGEST_WAIT);
        (Pace::Wait(wait), told)
    }

    /// Publishing ran out of work: an episode going on is over.
    pub fn idle(&mut self, now: Instant) -> Option<Episode> {
        self.end_hold(now);
        self.episode.take().map(|e| Episode::Ended { held: e.held, lasted: now.duration_since(e.started) })
    }

    fn end_hold(&mut self, now: Instant) {
        if let Some(h) = self.hold.take() {
            let held = now.duration_since(h.started);
            self.stats.held += held;
            if let Some(e) = self.episode.as_mut() {
                e.held += held;
                e.last_hold_end = now;
            }
        }
    }

    /// A batch goes: the hold (if any) is over; the episode ends after [`QUIET`] without one.
    fn release(&mut self, now: Instant) -> Option<Episode> {
        self.end_hold(now);
        match self.episode {
            Some(e) if now.duration_since(e.last_hold_end) >= QUIET => self.idle(now),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn calm() -> Load {
        Load::default()
    }

    fn alert() -> Load {
        Load { alert: true, deepest_queue: 0 }
    }

    fn deep(n: u64) -> Load {
        Load { alert: false, deepest_queue: n }
    }

    #[test]
    fn calm_asterisk_means_go_and_no_episode() {
        let mut p = Pacer::new(100, Duration::from_secs(1));
        let t = Instant::now();
        for i in 0..100 {
            assert_eq!(p.check(t + i * MS, calm()), (Pace::Go, None));
        }
        assert_eq!(p.check(t, deep(100)), (Pace::Go, None));
        assert_eq!(p.stats(), PacingStats::default());
    }

    #[test]
    fn an_alert_holds_with_a_doubling_bounded_back_off() {
        let mut p = Pacer::new(100, Duration::from_secs(10));
        let t = Instant::now();
        let (pace, ep) = p.check(t, alert());
        assert_eq!((pace, ep), (Pace::Wait(FIRST_WAIT), Some(Episode::Started)));
        let mut waits = vec![];
        let mut now = t;
        for _ in 0..10 {
            now += 10 * MS;
            match p.check(now, alert()) {
                (Pace::Wait(w), None) => waits.push(w),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(waits[0], 4 * MS);
        assert_eq!(waits[1], 8 * MS);
        assert!(waits.iter().all(|w| *w <= LONGEST_WAIT));
        assert_eq!(*waits.last().unwrap(), LONGEST_WAIT);
        assert!(p.stats().holding_back);
    }

    #[test]
    fn a_deep_consumer_queue_holds_in_short_steps() {
        let mut p = Pacer::new(100, Duration::from_secs(10));
        let t = Instant::now();
        assert_eq!(p.check(t, deep(101)).0, Pace::Wait(FIRST_WAIT));
        assert_eq!(p.check(t + MS, deep(300)).0, Pace::Wait(FIRST_WAIT));
        assert_eq!(p.check(t + 3 * MS, deep(50)).0, Pace::Go);
        assert_eq!(p.stats().held, 3 * MS);
    }

    #[test]
    fn a_hold_never_lasts_longer_than_max_hold() {
        let mut p = Pacer::new(100, Duration::from_millis(500));
        let t = Instant::now();
        assert!(matches!(p.check(t, alert()).0, Pace::Wait(_)));
        assert!(matches!(p.check(t + 499 * MS, alert()).0, Pace::Wait(_)));
        assert_eq!(p.check(t + 500 * MS, alert()).0, Pace::Go);
        // The next batch starts a new hold.
        assert!(matches!(p.check(t + 501 * MS, alert()).0, Pace::Wait(_)));
    }

    #[test]
    fn one_episode_for_many_holds_ended_after_a_quiet_spell() {
        let mut p = Pacer::new(100, Duration::from_secs(10));
        let t = Instant::now();
        let mut told = vec![];
        let mut now = t;
        // 50 short holds 10 ms apart: one episode.
        for _ in 0..50 {
            told.extend(p.check(now, deep(200)).1);
            now += MS;
            told.extend(p.check(now, calm()).1);
            now += 9 * MS;
        }
        assert_eq!(told, vec![Episode::Started]);
        // Calm for less than QUIET: still going on.
        assert_eq!(p.check(now + QUIET / 2, calm()).1, None);
        match p.check(now + QUIET, calm()).1 {
            Some(Episode::Ended { held, lasted }) => {
                assert_eq!(held, 50 * MS);
                assert!(lasted >= QUIET);
            }
            other => panic!("{other:?}"),
        }
        let stats = p.stats();
        assert_eq!((stats.episodes, stats.held, stats.holding_back), (1, 50 * MS, false));
    }

    #[test]
    fn running_out_of_work_ends_the_episode() {
        let mut p = Pacer::new(100, Duration::from_secs(10));
        let t = Instant::now();
        p.check(t, alert());
        assert!(matches!(p.idle(t + 5 * MS), Some(Episode::Ended { .. })));
        assert_eq!(p.idle(t + 6 * MS), None);
        assert_eq!(p.stats().held, 5 * MS);
    }

    #[test]
    fn switched_off_it_never_holds() {
        let mut p = Pacer::new(100, Duration::from_secs(10));
        p.set_enabled(false);
        assert_eq!(p.check(Instant::now(), alert()), (Pace::Go, None));
    }
}
