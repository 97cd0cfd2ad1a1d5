//! The queue of planned wake-ups behind the subscriptions' one timer thread: each entry is due
//! at a time and may fire up to its slack earlier. The thread sleeps until the earliest entry
//! and then takes every entry that may fire by then, so refreshes planned within a second of
//! each other cost one wake-up of the timer (and their SIP work fewer serializer wake-ups)
//! instead of one each; entries without slack (retries, initial delays) fire at their time.
//! A wake-up takes at most [`MAX_EARLY`] entries early: a batch fires together and is re-armed
//! together, so without a bound neighbouring batches would merge cycle after cycle into one
//! burst of every subscription.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::Millis;

/// The most entries one wake-up takes before their time (those due are always taken).
pub const MAX_EARLY: usize = 32;

struct Entry<T> {
    at: Millis,
    slack: Millis,
    /// Arming order, so that entries due at the same time fire in the order armed.
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

pub struct Wakeups<T> {
    heap: BinaryHeap<Reverse<Entry<T>>>,
    seq: u64,
}

impl<T> Default for Wakeups<T> {
    fn default() -> Self {
        Self { heap: BinaryHeap::new(), seq: 0 }
    }
}

impl<T> Wakeups<T> {
    /// Plans `item` for `at`, allowed to fire from `at - slack`. True when it is now the
    /// earliest entry (a sleeping thread must be woken to sleep less).
    pub fn push(&mut self, at: Millis, slack: Millis, item: T) -> bool {
        let earliest = self.next_at().is_none_or(|next| at < next);
        self.seq += 1;
        self.heap.push(Reverse(Entry { at, slack, seq: self.seq, item }));
        earliest
    }

    /// The time the earliest entry is due (the thread sleeps until then).
    pub fn next_at(&self) -> Option<Millis> {
        self.heap.peek().map(|Reverse(e)| e.at)
    }

    /// Removes and returns, in time order, every entry that may fire at `now`: those due, and
    /// after them up to [`MAX_EARLY`] due within their slack. It stops at the first entry that
    /// may not fire yet, so an entry without slack is never overtaken by a later one.
    pub fn take_due(&mut self, now: Millis) -> Vec<T> {
        let mut due = Vec::new();
        let mut early = 0;
        while let Some(Reverse(e)) = self.heap.peek() {
            if e.at > now {
                if e.at > now.saturating_add(e.slack) || early == MAX_EARLY {
                    break;
                }
                early += 1;
            }
            let Some(Reverse(e)) = self.heap.pop() else { break };
            due.push(e.item);
        }
        due
    }

    pub fn clear(&mut self) {
        self.heap.clear();
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_without_slack_fire_at_their_time_in_order() {
        let mut w = Wakeups::default();
        assert!(w.push(300, 0, "c"));
        assert!(w.push(100, 0, "a"));
        assert!(!w.push(200, 0, "b"));
        assert!(!w.push(100, 0, "a2"), "a tie is not earlier");
        assert_eq!(w.next_at(), Some(100));
        assert!(w.take_due(99).is_empty());
        assert_eq!(w.take_due(100), vec!["a", "a2"]);
        assert_eq!(w.take_due(250), vec!["b"]);
        assert_eq!(w.next_at(), Some(300));
        assert_eq!(w.take_due(1000), vec!["c"]);
        assert!(w.is_empty());
        assert_eq!(w.next_at(), None);
    }

    #[test]
    fn one_wake_up_takes_every_entry_within_its_slack() {
        let mut w = Wakeups::default();
        // Refreshes planned over two seconds, each with 1 s of slack.
        for (i, at) in [10_000u64, 10_300, 10_900, 11_000, 11_001, 12_500].into_iter().enumerate() {
            w.push(at, 1_000, i);
        }
        assert!(w.take_due(8_999).is_empty(), "nothing may fire more than its slack early");
        assert_eq!(w.take_due(10_000), vec![0, 1, 2, 3], "the one due and those within 1 s");
        assert_eq!(w.next_at(), Some(11_001));
        assert_eq!(w.take_due(11_001), vec![4]);
        assert_eq!(w.take_due(11_600), vec![5]);
    }

    #[test]
    fn an_entry_without_slack_is_neither_early_nor_overtaken() {
        let mut w = Wakeups::default();
        w.push(1_000, 1_000, "refresh due");
        w.push(1_200, 0, "retry");
        w.push(1_500, 1_000, "refresh after the retry");
        assert_eq!(w.take_due(1_000), vec!["refresh due"]);
        assert_eq!(
            w.take_due(1_199),
            Vec::<&str>::new(),
            "the retry keeps its time, and blocks the later refresh"
        );
        assert_eq!(w.take_due(1_200), vec!["retry", "refresh after the retry"]);
    }

    #[test]
    fn a_wake_up_takes_every_due_entry_but_a_bounded_number_early() {
        let mut w = Wakeups::default();
        for i in 0..100 {
            w.push(1_000, 0, i); // due together, without slack
        }
        for i in 100..200 {
            w.push(1_500, 1_000, i); // within the slack of a wake-up at 1_000
        }
        let taken = w.take_due(1_000);
        assert_eq!(taken.len(), 100 + MAX_EARLY, "every due entry, and MAX_EARLY early ones");
        assert_eq!(taken, (0..100 + MAX_EARLY).collect::<Vec<_>>());
        assert_eq!(w.next_at(), Some(1_500), "the rest wait for their own time");
        assert!(w.take_due(1_001).len() <= MAX_EARLY);
        assert_eq!(w.take_due(1_500).len(), 100usize.saturating_sub(2 * MAX_EARLY));
        assert!(w.is_empty());
    }

    /// 1,000 refreshes re-armed 50 s after each firing (plus a response delay) for 200
    /// cycles: batches form (fewer wake-ups than entries) but never merge past the bound.
    #[test]
    fn batches_stay_bounded_over_many_refresh_cycles() {
        let mut w = Wakeups::default();
        let mut seed = 12345u64;
        let mut rand = move |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for i in 0..1_000u32 {
            w.push(rand(10_000), 1_000, i);
        }
        let (mut wakeups, mut fired, mut largest) = (0u64, 0u64, 0usize);
        while fired < 200 * 1_000 {
            let now = w.next_at().expect("every entry is re-armed");
            let batch = w.take_due(now);
            assert!(!batch.is_empty(), "a wake-up at the earliest entry takes it");
            largest = largest.max(batch.len());
            wakeups += 1;
            fired += batch.len() as u64;
            for i in batch {
                w.push(now + 50_000 + rand(20), 1_000, i);
            }
        }
        // Those due at the same millisecond come on top of the early ones.
        assert!(largest <= 64, "largest batch {largest}");
        assert!(wakeups * 4 < fired, "{wakeups} wake-ups for {fired} firings: no batching");
        eprintln!("{wakeups} wake-ups for {fired} firings, largest batch {largest}");
        assert_eq!(w.len(), 1_000);
    }

    #[test]
    fn clear_forgets_everything() {
        let mut w = Wakeups::default();
        w.push(5, 0, ());
        w.push(6, 3, ());
        assert_eq!(w.len(), 2);
        w.clear();
        assert!(w.is_empty());
        assert!(w.take_due(u64::MAX).is_empty());
    }

    #[test]
    fn slack_near_the_end_of_time_does_not_overflow() {
        let mut w = Wakeups::default();
        w.push(u64::MAX, u64::MAX, 1);
        assert_eq!(w.take_due(u64::MAX - 1), vec![1]);
    }
}
