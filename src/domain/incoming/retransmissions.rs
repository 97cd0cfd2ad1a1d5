//! Retransmitted NOTIFYs: answered again, not published again.
//!
//! We answer NOTIFYs without a transaction, so a sender that missed our answer sends the same
//! request (same endpoint, Call-ID and CSeq) again; pjsip hands it to us like a new one. The
//! answer given is remembered for the retransmission window of RFC 3261 (64 * T1 = 32 s).

use std::collections::{HashMap, VecDeque};

/// How long a request can be retransmitted (Timer F, 64 * T1).
pub const WINDOW_MS: u64 = 32_000;

/// A request as its sender identifies it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey {
    pub endpoint: String,
    pub call_id: String,
    pub cseq: u32,
}

/// A status code and its reason phrase, when not the standard one.
pub type Answer = (u16, Option<String>);

/// The answers given to recent requests.
///
/// # Invariants
/// At most `capacity` answers are kept; an answer is forgotten [`WINDOW_MS`] after it was given
/// or when `capacity` newer ones push it out, whichever comes first.
#[derive(Debug)]
pub struct RecentAnswers {
    answers: HashMap<RequestKey, (u64, Answer)>,
    order: VecDeque<(u64, RequestKey)>,
    capacity: usize,
}

impl RecentAnswers {
    pub fn new(capacity: usize) -> Self {
        Self { answers: HashMap::new(), order: VecDeque::new(), capacity: capacity.max(1) }
    }

    fn expire(&mut self, now_ms: u64) {
        while let Some((at, _)) = self.order.front() {
            if self.order.len() <= self.capacity && now_ms.saturating_sub(*at) < WINDOW_MS {
                break;
            }
            if let Some((at, key)) = self.order.pop_front() {
                if self.answers.get(&key).is_some_and(|(t, _)| *t == at) {
                    self.answers.remove(&key);
                }
            }
        }
    }

    /// The answer given to this request within the window, if it was seen.
    pub fn answered(&mut self, key: &RequestKey, now_ms: u64) -> Option<Answer> {
        self.expire(now_ms);
        self.answers.get(key).map(|(_, answer)| answer.clone())
    }

    /// Remembers the answer given to a request.
    pub fn remember(&mut self, key: RequestKey, answer: Answer, now_ms: u64) {
        self.answers.insert(key.clone(), (now_ms, answer));
        self.order.push_back((now_ms, key));
        self.expire(now_ms);
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(endpoint: &str, call_id: &str, cseq: u32) -> RequestKey {
        RequestKey { endpoint: endpoint.into(), call_id: call_id.into(), cseq }
    }

    #[test]
    fn a_retransmission_gets_the_same_answer() {
        let mut r = RecentAnswers::new(16);
        assert_eq!(r.answered(&key("vmtrunk", "c1", 1), 0), None);
        r.remember(key("vmtrunk", "c1", 1), (400, Some("line 2: bad".into())), 0);
        assert_eq!(r.answered(&key("vmtrunk", "c1", 1), 500), Some((400, Some("line 2: bad".into()))));
        // A new CSeq, Call-ID or endpoint is a new request.
        assert_eq!(r.answered(&key("vmtrunk", "c1", 2), 500), None);
        assert_eq!(r.answered(&key("vmtrunk", "c2", 1), 500), None);
        assert_eq!(r.answered(&key("other", "c1", 1), 500), None);
    }

    #[test]
    fn answers_are_forgotten_after_the_window() {
        let mut r = RecentAnswers::new(16);
        r.remember(key("e", "c", 1), (400, None), 1_000);
        assert_eq!(r.answered(&key("e", "c", 1), 1_000 + WINDOW_MS - 1), Some((400, None)));
        assert_eq!(r.answered(&key("e", "c", 1), 1_000 + WINDOW_MS), None);
        assert!(r.is_empty());
    }

    #[test]
    fn memory_is_bounded() {
        let mut r = RecentAnswers::new(100);
        for i in 0..10_000 {
            r.remember(key("e", &format!("c{i}"), 1), (200, None), 5);
        }
        assert_eq!(r.len(), 100);
        assert!(r.order.len() <= 100);
        assert_eq!(r.answered(&key("e", "c9999", 1), 5), Some((200, None)));
        assert_eq!(r.answered(&key("e", "c0", 1), 5), None);
    }
}
