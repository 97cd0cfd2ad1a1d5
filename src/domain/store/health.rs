//! Whether the store can write: episodes of failing writes (disk full, read-only filesystem,
//! I/O errors), so the admin reads one ERROR when writes start failing and one NOTICE when
//! they work again, not a line per refused update.

/// A running episode of failing writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failing {
    /// When the first write failed (unix ms, as the caller's clock says).
    pub since_ms: i64,
    /// Writes refused since then, the first included.
    pub refused: u64,
    /// The first failure's text.
    pub error: String,
}

#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: Option<Failing>,
}

impl WriteHealth {
    /// A write failed; true when it starts an episode (the one to log).
    pub fn failed(&mut self, now_ms: i64, error: impl FnOnce() -> String) -> bool {
        match &mut self.failing {
            Some(f) => {
                f.refused += 1;
                false
            }
            None => {
                self.failing = Some(Failing { since_ms: now_ms, refused: 1, error: error() });
                true
            }
        }
    }

    /// A write was committed; the episode it ends, if one was running.
    pub fn wrote(&mut self) -> Option<Failing> {
        self.failing.take()
    }

    /// The running episode, if any.
    pub fn failing(&self) -> Option<&Failing> {
        self.failing.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_episode_from_the_first_failure_to_the_next_write() {
        let mut h = WriteHealth::default();
        assert!(h.wrote().is_none(), "no episode: nothing ends");
        assert!(h.failed(1_000, || "disk full".into()));
        assert!(!h.failed(2_000, || unreachable!("only the first failure's text is kept")));
        assert!(!h.failed(3_000, || unreachable!()));
        assert_eq!(h.failing(), Some(&Failing { since_ms: 1_000, refused: 3, error: "disk full".into() }));
        assert_eq!(h.wrote().map(|f| f.refused), Some(3));
        assert!(h.failing().is_none());
        assert!(h.wrote().is_none());
        assert!(h.failed(9_000, || "read-only".into()), "a new episode is logged again");
    }
}
