//! Receive order of NOTIFYs.
//!
//! pjsip reads requests on one thread, in the order they arrive, then hands them to worker
//! threads that run in parallel. [`ArrivalStamps`] numbers each NOTIFY on the receiving thread;
//! the worker looks its number up again, and [`LatestArrival`] lets a mailbox take a state only
//! from a NOTIFY received after the one it last took. So whatever the scheduling, each mailbox
//! ends with the state of the NOTIFY received last.

use std::collections::{HashMap, VecDeque};

/// A request as both threads can name it: Call-ID and CSeq number.
pub type RequestId = (String, u32);

/// Arrival numbers of requests that are between the receiving thread and a worker.
///
/// # Invariants
/// Numbers strictly increase with each [`ArrivalStamps::stamp`]. At most `capacity` requests
/// are remembered: a request whose worker never asks (refused before it reached us) is dropped
/// once `capacity` newer ones arrived.
#[derive(Debug)]
pub struct ArrivalStamps {
    next: u64,
    by_request: HashMap<RequestId, u64>,
    order: VecDeque<(u64, RequestId)>,
    capacity: usize,
}

impl ArrivalStamps {
    pub fn new(capacity: usize) -> Self {
        Self { next: 1, by_request: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    /// Numbers a request as it arrives. A retransmission that arrives while the first copy
    /// still waits for its worker keeps the first copy's number: it is that request, and must
    /// not jump ahead of requests received after it.
    pub fn stamp(&mut self, id: RequestId) -> u64 {
        if let Some(&n) = self.by_request.get(&id) {
            return n;
        }
        let n = self.next;
        self.next += 1;
        self.by_request.insert(id.clone(), n);
        self.order.push_back((n, id));
        while self.order.len() > self.capacity {
            if let Some((old, old_id)) = self.order.pop_front() {
                if self.by_request.get(&old_id) == Some(&old) {
                    self.by_request.remove(&old_id);
                }
            }
        }
        n
    }

    /// The number given to a request, forgetting it. When it was never stamped (the module was
    /// loaded while it was on its way) or was dropped, a fresh number: it then counts as
    /// received now.
    pub fn take(&mut self, id: &RequestId) -> u64 {
        match self.by_request.remove(id) {
            Some(n) => n,
            None => {
                let n = self.next;
                self.next += 1;
                n
            }
        }
    }

    pub fn len(&self) -> usize {
        self.by_request.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_request.is_empty()
    }
}

/// The arrival number of the NOTIFY each mailbox last took its state from.
#[derive(Debug, Default)]
pub struct LatestArrival {
    by_mailbox: HashMap<String, u64>,
}

impl LatestArrival {
    /// True (and remembered) when `arrival` is newer than what `mailbox` last took.
    pub fn admit(&mut self, mailbox: &str, arrival: u64) -> bool {
        match self.by_mailbox.get_mut(mailbox) {
            Some(latest) if *latest >= arrival => false,
            Some(latest) => {
                *latest = arrival;
                true
            }
            None => {
                self.by_mailbox.insert(mailbox.to_owned(), arrival);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(call: &str, cseq: u32) -> RequestId {
        (call.to_owned(), cseq)
    }

    #[test]
    fn stamps_follow_arrival_and_are_taken_once() {
        let mut s = ArrivalStamps::new(8);
        let a = s.stamp(id("a", 1));
        let b = s.stamp(id("b", 1));
        assert!(a < b);
        // Workers may ask in any order.
        assert_eq!(s.take(&id("b", 1)), b);
        assert_eq!(s.take(&id("a", 1)), a);
        assert!(s.is_empty());
        // Unknown (or already taken): a fresh, later number.
        assert!(s.take(&id("a", 1)) > b);
    }

    #[test]
    fn a_retransmission_keeps_its_first_number() {
        let mut s = ArrivalStamps::new(8);
        let first = s.stamp(id("a", 1));
        let later = s.stamp(id("b", 1));
        assert_eq!(s.stamp(id("a", 1)), first);
        assert!(s.take(&id("a", 1)) < later);
        // Once taken, a copy arriving later is new.
        assert!(s.stamp(id("a", 1)) > later);
    }

    #[test]
    fn memory_is_bounded() {
        let mut s = ArrivalStamps::new(3);
        for i in 0..100 {
            s.stamp(id(&format!("c{i}"), 1));
        }
        assert_eq!(s.len(), 3);
        assert!(s.order.len() <= 3);
        assert_eq!(s.take(&id("c99", 1)), 100);
        // Dropped long ago: counts as new.
        assert!(s.take(&id("c0", 1)) > 100);
    }

    #[test]
    fn an_older_notify_never_overwrites_a_newer_one() {
        let mut l = LatestArrival::default();
        assert!(l.admit("1001@remote", 5));
        assert!(!l.admit("1001@remote", 3));
        assert!(!l.admit("1001@remote", 5));
        assert!(l.admit("1001@remote", 6));
        // Mailboxes are independent.
        assert!(l.admit("1002@remote", 1));
    }

    #[test]
    fn any_worker_order_ends_with_the_last_received_state() {
        // 50 NOTIFYs for one mailbox, handled in a scrambled order: the mailbox ends with the
        // one received last, whatever the order.
        let mut s = ArrivalStamps::new(64);
        let stamps: Vec<(u32, u64)> =
            (0..50).map(|count| (count, s.stamp(id(&format!("n{count}"), 1)))).collect();
        for seed in 0..20u64 {
            let mut order = stamps.clone();
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for i in (1..order.len()).rev() {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                order.swap(i, (x >> 33) as usize % (i + 1));
            }
            let mut l = LatestArrival::default();
            let mut state = None;
            for (count, arrival) in order {
                if l.admit("m", arrival) {
                    state = Some(count);
                }
            }
            assert_eq!(state, Some(49), "seed {seed}");
        }
    }
}
