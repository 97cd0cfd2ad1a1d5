//! Incoming unsolicited MWI: message-summary NOTIFYs from PJSIP endpoints, taken from
//! res_pjsip_pubsub's built-in handler and written into the mailbox store (so they persist and
//! are republished at boot). The decisions are in `crate::domain::incoming`; this is the glue
//! to pjsip.
//!
//! Two pjsip modules:
//! - [`arrival::ArrivalStamper`] (priority 9, pjsip's receiving thread) numbers each NOTIFY in
//!   arrival order;
//! - [`notify::NotifyHandler`] (priority 63: after authentication, before res_pjsip_pubsub at
//!   64) claims the NOTIFYs of endpoints with `incoming_mwi_mailbox` and answers them.

pub mod arrival;
pub mod endpoints;
pub mod notify;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::incoming::arrival::{ArrivalStamps, LatestArrival};
use crate::domain::incoming::growth::{EndpointGrowth, MailboxLimit};
use crate::domain::incoming::retransmissions::RecentAnswers;
use crate::domain::status::EndpointShare;
use crate::host::module::{Installed, LoadedSlot};
use crate::host::pjsip::PjsipService;

// Every critical section on the incoming state leaves it consistent, so a lock a panicking
// thread held is still usable.
use crate::domain::sync::lock;

/// NOTIFYs between the receiving thread and a worker that we remember the arrival of.
const ARRIVALS_REMEMBERED: usize = 65_536;
/// Answers remembered for retransmissions (within RFC 3261's 32 s window).
const ANSWERS_REMEMBERED: usize = 65_536;

/// What the incoming path keeps between requests.
pub struct IncomingState {
    pub arrivals: Mutex<ArrivalStamps>,
    pub latest: Mutex<LatestArrival>,
    pub answers: Mutex<RecentAnswers>,
    pub endpoints: endpoints::EndpointMappings,
    /// NOTIFYs answered 200 and answered otherwise (retransmissions not counted again).
    pub taken: AtomicU64,
    pub refused: AtomicU64,
    /// `max_mailboxes_per_endpoint` (0: none), as configured now.
    pub limit: AtomicUsize,
    /// Per endpoint: full or not, refusals of new accounts. Taken under the store lock.
    pub growth: Mutex<EndpointGrowth>,
    /// Test build only: per mailbox, the newest arrival number any worker saw and the counts
    /// its NOTIFY carried, kept apart from the check that decides (see `test_hooks`).
    #[cfg(feature = "test-hooks")]
    pub newest: Mutex<std::collections::HashMap<String, (u64, crate::domain::counts::MwiCounts)>>,
}

/// Test build only: whether NOTIFYs received earlier are kept from overwriting later ones
/// (on by default; off shows what the ordering tests catch).
#[cfg(feature = "test-hooks")]
pub static ARRIVAL_CHECK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Test build only: the newest arrival recorded for `mailbox` and its counts.
#[cfg(feature = "test-hooks")]
pub fn newest_arrival(mailbox: &str) -> Option<(u64, crate::domain::counts::MwiCounts)> {
    current().and_then(|s| lock(&s.newest).get(mailbox).copied())
}

/// The state of the loaded module's incoming path, for the pjsip callbacks (no user data).
static CURRENT: LoadedSlot<IncomingState> = LoadedSlot::new();

fn current() -> Option<Arc<IncomingState>> {
    CURRENT.get()
}

/// NOTIFYs taken (200) and refused since load; None when the incoming path is off.
pub fn notify_counts() -> Option<(u64, u64)> {
    current().map(|s| (s.taken.load(Ordering::Relaxed), s.refused.load(Ordering::Relaxed)))
}

/// Applies a reloaded `max_mailboxes_per_endpoint`.
pub fn set_limit(limit: MailboxLimit) {
    if let Some(s) = current() {
        s.limit.store(limit.0, Ordering::Relaxed);
    }
}

/// The limit in force and, per endpoint that holds mailboxes or had new accounts refused since
/// load, its share (sorted by endpoint); None when the incoming path is off.
pub fn endpoint_growth(by_endpoint: Vec<(String, usize)>) -> Option<(MailboxLimit, Vec<EndpointShare>)> {
    let s = current()?;
    let growth = lock(&s.growth);
    let mut shares: Vec<EndpointShare> = by_endpoint
        .into_iter()
        .map(|(endpoint, mailboxes)| EndpointShare {
            refused: growth.refused(&endpoint),
            endpoint,
            mailboxes,
        })
        .collect();
    for (endpoint, refused) in growth.refusals() {
        if !shares.iter().any(|x| x.endpoint == endpoint) {
            shares.push(EndpointShare { endpoint: endpoint.to_owned(), mailboxes: 0, refused });
        }
    }
    shares.sort_unstable_by(|a, b| a.endpoint.cmp(&b.endpoint));
    Some((MailboxLimit(s.limit.load(Ordering::Relaxed)), shares))
}

/// The registered incoming path. Its fields drop in declaration order, which is the teardown:
/// the handler first (from then on res_pjsip_pubsub answers NOTIFYs again), then the stamper,
/// then the state (no callback runs any more, see host::pjsip; releasing the endpoint
/// references it holds).
pub struct IncomingMwi {
    _notify: PjsipService,
    _stamper: PjsipService,
    _state: Installed<IncomingState>,
}

impl IncomingMwi {
    pub fn start(limit: MailboxLimit) -> Result<Self, String> {
        let state = CURRENT.install(Arc::new(IncomingState {
            arrivals: Mutex::new(ArrivalStamps::new(ARRIVALS_REMEMBERED)),
            latest: Mutex::new(LatestArrival::default()),
            answers: Mutex::new(RecentAnswers::new(ANSWERS_REMEMBERED)),
            endpoints: endpoints::EndpointMappings::default(),
            taken: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            limit: AtomicUsize::new(limit.0),
            growth: Mutex::default(),
            #[cfg(feature = "test-hooks")]
            newest: Mutex::default(),
        }));
        // The stamper first, so every NOTIFY the handler sees was numbered on arrival.
        let stamper = PjsipService::register::<arrival::ArrivalStamper>()?;
        let notify = PjsipService::register::<notify::NotifyHandler>()?;
        Ok(Self { _notify: notify, _stamper: stamper, _state: state })
    }
}
