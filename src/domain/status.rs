//! The text of `mwi show status`.

use std::fmt::Write;
use std::time::Duration;

use super::pacing::PacingStats;

/// The background republish, as `mwi show status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepublishLine {
    /// Waiting for Asterisk to be fully booted.
    #[default]
    WaitingForBoot,
    Running {
        published: usize,
        total: usize,
        elapsed: Duration,
    },
    Done {
        published: usize,
        took: Duration,
    },
    /// Stopped by an unload before the end (the rest is republished at the next load).
    Stopped {
        published: usize,
        total: usize,
    },
}

/// What the status screen shows.
#[derive(Debug, Clone)]
pub struct StatusFacts {
    pub version: &'static str,
    pub stored: usize,
    pub republish: RepublishLine,
    pub pacing: PacingStats,
    pub watched_queues: usize,
}

pub fn format_status(f: &StatusFacts) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "res_mwi_hub {}", f.version);
    let _ = writeln!(out, "External mailboxes:  {} stored", f.stored);
    let republish = match f.republish {
        RepublishLine::WaitingForBoot => "waiting for Asterisk to be fully booted".to_owned(),
        RepublishLine::Running { published, total, elapsed } => {
            format!("running: {published} of {total} published ({:.1} s so far)", elapsed.as_secs_f64())
        }
        RepublishLine::Done { published, took } => {
            format!("done: {published} mailboxes with messages published in {:.1} s", took.as_secs_f64())
        }
        RepublishLine::Stopped { published, total } => {
            format!("stopped by unload after {published} of {total} (the rest is published at the next load)")
        }
    };
    let _ = writeln!(out, "Republish at load:   {republish}");
    let p = f.pacing;
    let _ = writeln!(
        out,
        "Pacing:              {}; held back {:.1} s in all, in {} episode{} since load",
        if p.holding_back { "holding publishing back now (Asterisk is busy)" } else { "not holding back" },
        p.held.as_secs_f64(),
        p.episodes,
        if p.episodes == 1 { "" } else { "s" }
    );
    let _ = writeln!(out, "MWI consumer queues: {} watched", f.watched_queues);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_progress_and_pacing() {
        let facts = StatusFacts {
            version: "0.1.0",
            stored: 100_000,
            republish: RepublishLine::Running {
                published: 4_000,
                total: 100_000,
                elapsed: Duration::from_millis(2500),
            },
            pacing: PacingStats { held: Duration::from_millis(1500), episodes: 1, holding_back: true },
            watched_queues: 6,
        };
        let text = format_status(&facts);
        assert!(text.contains("100000 stored"), "{text}");
        assert!(text.contains("running: 4000 of 100000 published (2.5 s so far)"), "{text}");
        assert!(text.contains("holding publishing back now"), "{text}");
        assert!(text.contains("held back 1.5 s in all, in 1 episode since load"), "{text}");
        let done = StatusFacts {
            republish: RepublishLine::Done { published: 7, took: Duration::from_secs(3) },
            pacing: PacingStats::default(),
            ..facts
        };
        let text = format_status(&done);
        assert!(text.contains("done: 7 mailboxes with messages published in 3.0 s"), "{text}");
        assert!(text.contains("not holding back; held back 0.0 s in all, in 0 episodes"), "{text}");
    }
}
