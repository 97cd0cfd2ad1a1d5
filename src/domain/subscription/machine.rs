//! One outbound subscription's state machine. The host feeds it [`Event`]s (responses to our
//! SUBSCRIBEs, NOTIFYs, timers, admin commands) with the current time; it answers with
//! [`Action`]s for the host to carry out (send a SUBSCRIBE, arm the one timer, report a change).
//! No I/O and no clock of its own: every rule is unit-tested with a simulated clock.
//!
//! The host's side of the contract:
//! - pjsip ends a dialog on every failure, so [`Action::Subscribe`] always means a new dialog
//!   (the host drops any current one silently first); [`Action::Refresh`] and
//!   [`Action::Unsubscribe`] act in the current dialog.
//! - Events concern the current dialog only (the host discards what an older dialog reports).
//! - The host answers 401/407 challenges itself through `outbound_auth` (a bounded number of
//!   times per request); only a challenge it could not answer reaches the machine, as
//!   `Response { code: 401 | 407 }`.
//! - There is one timer: [`Action::ArmTimer`] replaces it; [`Event::Timer`] is its firing
//!   (the host may deliver a late or stale firing: the machine checks the time itself).
//!
//! The machine's side:
//! - One call's actions come in this order: the SIP action, if any; then one
//!   [`Action::ArmTimer`] whenever the phase or the planned wake-up changed (a timer that fired
//!   is spent: it is not disarmed again); then one [`Action::Report`] on every phase change,
//!   and when a phase starts over (a new SUBSCRIBE sent at once while Subscribing, e.g. after
//!   a 423), with `from == to` then.
//! - The only timeouts of its own are Stop's ([`STOP_WAIT_MS`]); an outstanding SUBSCRIBE
//!   waits for the host's [`Event::NoResponse`].
//! - Events that make no sense in the current phase are ignored; after Stopped, all are.

use std::collections::VecDeque;

use super::subscription_state::{StateKind, SubscriptionState, TerminationReason};
use super::Millis;

/// The timing options the machine needs (from [`super::settings::SubscriptionSettings`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Expires asked for, seconds.
    pub expiration: u32,
    pub retry_interval: u32,
    pub forbidden_retry_interval: u32,
    pub fatal_retry_interval: u32,
    pub max_retries: u32,
}

/// What happened, as the host saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Begin: the first SUBSCRIBE goes out after `delay_ms` (the host picks it at random up to
    /// max_random_initial_delay).
    Start { delay_ms: u64 },
    /// A final response to our latest SUBSCRIBE (initial, refresh or unsubscribe).
    Response { code: u16, expires: Option<u32>, min_expires: Option<u32>, retry_after: Option<u32> },
    /// Our latest SUBSCRIBE got no final response (transaction timeout).
    NoResponse,
    /// It could not be sent at all (no transport, bad URI, DNS failure); the text says why.
    SendFailed(String),
    /// An in-dialog NOTIFY with this Subscription-State (its body is the host's business).
    Notify(SubscriptionState),
    /// pjsip ended the current dialog for a reason the machine did not see as an event.
    DialogEnded,
    /// The armed timer fired.
    Timer,
    /// An admin asked for a new subscription now (resets the failure count).
    ResubscribeNow,
    /// Unsubscribe and stop (unload, object removed or changed).
    Stop,
}

/// What the host is to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Drop any current dialog silently and send an initial SUBSCRIBE in a new one.
    Subscribe { expires: u32 },
    /// Send a refresh SUBSCRIBE in the current dialog.
    Refresh { expires: u32 },
    /// Send SUBSCRIBE with Expires: 0 in the current dialog.
    Unsubscribe,
    /// End the current dialog without sending anything.
    DropDialog,
    /// Deliver [`Event::Timer`] at this time (replacing any armed timer); None disarms it.
    ArmTimer(Option<Millis>),
    /// Tell the admin (log line, AMI event, history).
    Report(Change),
}

/// The states shown to admins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not started, or waiting for the initial random delay.
    Waiting,
    /// Initial SUBSCRIBE sent, no final response yet.
    Subscribing,
    /// Established (2xx or NOTIFY active).
    Active,
    /// Established, the server says pending.
    Pending,
    /// Refresh sent, no final response yet (still established).
    Refreshing,
    /// Waiting to retry after a failure.
    Retrying,
    /// Failed max_retries times in a row, or a permanent failure with no retry interval.
    GivenUp,
    /// The server ended it for good (terminated with rejected or noresource).
    Rejected,
    /// Expires: 0 sent, waiting (bounded) for its answer.
    Unsubscribing,
    /// Stopped by Stop.
    Stopped,
}

impl Phase {
    /// Every phase, in the order status screens list them.
    pub const ALL: [Phase; 10] = [
        Self::Active,
        Self::Pending,
        Self::Refreshing,
        Self::Subscribing,
        Self::Waiting,
        Self::Retrying,
        Self::GivenUp,
        Self::Rejected,
        Self::Unsubscribing,
        Self::Stopped,
    ];

    /// The word shown by the CLI and AMI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Waiting => "Waiting",
            Self::Subscribing => "Subscribing",
            Self::Active => "Active",
            Self::Pending => "Pending",
            Self::Refreshing => "Refreshing",
            Self::Retrying => "Retrying",
            Self::GivenUp => "GivenUp",
            Self::Rejected => "Rejected",
            Self::Unsubscribing => "Unsubscribing",
            Self::Stopped => "Stopped",
        }
    }
}

/// A change of phase, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub at: Millis,
    pub from: Phase,
    pub to: Phase,
    /// Short and specific: "200, granted 60 s", "503, retry in 4 s (attempt 2 of 10)",
    /// "NOTIFY terminated;reason=deactivated: resubscribing now".
    pub reason: String,
}

impl Change {
    /// A refresh going out or coming back fine (established -> Refreshing -> established):
    /// bookkeeping, not news. The history leaves these out, and the host logs them at debug
    /// level only, without an AMI event (a registration's refresh raises none either).
    pub fn is_routine_refresh(&self) -> bool {
        let established = |p: Phase| matches!(p, Phase::Active | Phase::Pending);
        (established(self.from) && self.to == Phase::Refreshing)
            || (self.from == Phase::Refreshing && established(self.to))
    }
}

/// A snapshot for `mwi show subscription(s)` and AMI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub phase: Phase,
    /// "200", "503", "timeout", "401 (credentials rejected)", "not sent: <why>"; None before any.
    pub last_response: Option<String>,
    /// Expires the server granted last, seconds.
    pub granted: Option<u32>,
    /// Time left of the current subscription, if established.
    pub expires_in_ms: Option<u64>,
    /// Time to the next SUBSCRIBE we will send (refresh or retry), if one is planned.
    pub next_subscribe_in_ms: Option<u64>,
    /// Failed attempts in a row.
    pub failures: u32,
    /// The newest changes last (at most [`HISTORY_LEN`]).
    pub history: Vec<Change>,
}

/// How many changes [`Status::history`] keeps.
pub const HISTORY_LEN: usize = 20;

/// How long Stop waits for the answer to an unsubscribe (or to the initial SUBSCRIBE it
/// interrupted) before dropping the dialog: unload must not hang on a silent server.
pub const STOP_WAIT_MS: u64 = 2_000;
/// A refresh goes out this long before the granted period ends at most (a third of it for
/// short periods), leaving room for a retransmission or two.
const MAX_REFRESH_LEAD_MS: u64 = 10_000;
/// A refresh may be sent up to a tenth of its lead (at most 1 s) early: the timer then serves
/// every refresh due within that slack with one wake-up, and their SIP work runs in fewer
/// serializer wake-ups, as a batch. Retries and the initial delay have none (their spacing
/// is the point).
const REFRESH_SLACK_DIVISOR: u64 = 10;
const MAX_REFRESH_SLACK_MS: u64 = 1_000;
/// The backoff doubles up to an hour (or retry_interval, if that is longer).
const MAX_BACKOFF_S: u32 = 3_600;
/// Immediate resubscribes (after terminated;reason=deactivated or timeout, or a 481 to a
/// refresh) are limited to this many within [`RESUBSCRIBE_WINDOW_MS`]; further ones back off,
/// so a server that ends every subscription at once cannot make us loop.
const MAX_IMMEDIATE_RESUBSCRIBES: usize = 3;
const RESUBSCRIBE_WINDOW_MS: u64 = 60_000;

/// What the armed timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WakeFor {
    /// Send an initial SUBSCRIBE (end of the initial delay, or a retry).
    Subscribe,
    /// Send a refresh in the current dialog.
    Refresh,
    /// Stop's wait is over: drop the dialog.
    StopWait,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Wake {
    at: Millis,
    what: WakeFor,
    /// How much earlier than `at` it may fire (see [`Machine::wake_slack`]).
    slack: Millis,
}

/// The SUBSCRIBE awaiting its final response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Request {
    Initial,
    Refresh,
    Unsubscribe,
}

/// What one call decided, gathered so that `handle` can append the ArmTimer and the Report.
#[derive(Debug, Default)]
struct Step {
    sends: Vec<Action>,
    reason: Option<String>,
    /// The armed timer fired in this call (the host's timer is spent).
    fired: bool,
}

/// One subscription's state machine.
#[derive(Debug)]
pub struct Machine {
    timing: Timing,
    /// xorshift64 state for the jitter; never 0.
    rng: u64,
    phase: Phase,
    started: bool,
    /// Expires we ask for: the configured expiration, raised by a 423's Min-Expires.
    requested: u32,
    failures: u32,
    wake: Option<Wake>,
    outstanding: Option<Request>,
    /// Stop came while the initial SUBSCRIBE was outstanding: its answer decides.
    stop_pending: bool,
    /// The server's last word on the current dialog was `pending`.
    server_pending: bool,
    /// The expires of a NOTIFY that came while the outstanding SUBSCRIBE awaited its 2xx.
    notify_expires: Option<u32>,
    granted: Option<u32>,
    /// When the granted period ends (established phases).
    expires_at: Option<Millis>,
    last_response: Option<String>,
    /// When the recent immediate resubscribes were sent, oldest first.
    recent_resubscribes: VecDeque<Millis>,
    history: VecDeque<Change>,
}

impl Machine {
    /// A machine in phase Waiting; `seed` feeds the jitter (tests pass a constant).
    pub fn new(timing: Timing, seed: u64) -> Self {
        // One splitmix64 round, so that nearby seeds (1, 2, 3) give unrelated sequences.
        let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        Self {
            timing,
            rng: if z == 0 { 0x2545_f491_4f6c_dd1d } else { z },
            phase: Phase::Waiting,
            started: false,
            requested: timing.expiration,
            failures: 0,
            wake: None,
            outstanding: None,
            stop_pending: false,
            server_pending: false,
            notify_expires: None,
            granted: None,
            expires_at: None,
            last_response: None,
            recent_resubscribes: VecDeque::new(),
            history: VecDeque::new(),
        }
    }

    /// Feeds one event at time `now`; returns the actions to carry out, in order: the SIP
    /// action (if any), then ArmTimer (whenever the phase or the planned wake-up changes), then
    /// Report (on every phase change, and when a phase starts over, e.g. a new SUBSCRIBE sent
    /// at once after a 423).
    pub fn handle(&mut self, now: Millis, event: Event) -> Vec<Action> {
        if self.phase == Phase::Stopped {
            return Vec::new();
        }
        let from = self.phase;
        let wake_before = self.wake.map(|w| w.at);
        let mut step = Step::default();
        match event {
            Event::Start { delay_ms } => self.on_start(now, delay_ms, &mut step),
            Event::Response { code, expires, min_expires, retry_after } => {
                self.on_response(now, code, expires, min_expires, retry_after, &mut step)
            }
            Event::NoResponse => {
                self.on_not_answered(now, "timeout".to_owned(), "timeout".to_owned(), &mut step)
            }
            Event::SendFailed(why) => {
                let why = printable(&why);
                self.on_not_answered(now, format!("not sent ({why})"), format!("not sent: {why}"), &mut step)
            }
            Event::Notify(state) => self.on_notify(now, &state, &mut step),
            Event::DialogEnded => self.on_dialog_ended(now, &mut step),
            Event::Timer => self.on_timer(now, &mut step),
            Event::ResubscribeNow => self.on_resubscribe_now(&mut step),
            Event::Stop => self.on_stop(now, &mut step),
        }
        debug_assert!(self.phase == from || step.reason.is_some(), "{from:?} -> {:?} unreported", self.phase);
        let mut actions = step.sends;
        let wake_after = self.wake.map(|w| w.at);
        if self.phase != from || wake_after != wake_before || (step.fired && wake_after.is_some()) {
            actions.push(Action::ArmTimer(wake_after));
        }
        if let Some(reason) = step.reason {
            let change = Change { at: now, from, to: self.phase, reason };
            // A refresh every few minutes would push every real change out of the history.
            if !change.is_routine_refresh() {
                if self.history.len() == HISTORY_LEN {
                    self.history.pop_front();
                }
                self.history.push_back(change.clone());
            }
            actions.push(Action::Report(change));
        }
        actions
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// How much earlier than the armed time the timer may fire (0 when nothing is armed).
    pub fn wake_slack(&self) -> Millis {
        self.wake.map_or(0, |w| w.slack)
    }

    pub fn status(&self, now: Millis) -> Status {
        let established = matches!(self.phase, Phase::Active | Phase::Pending | Phase::Refreshing);
        Status {
            phase: self.phase,
            last_response: self.last_response.clone(),
            granted: self.granted,
            expires_in_ms: self.expires_at.filter(|_| established).map(|at| at.saturating_sub(now)),
            next_subscribe_in_ms: self
                .wake
                .filter(|w| w.what != WakeFor::StopWait)
                .map(|w| w.at.saturating_sub(now)),
            failures: self.failures,
            history: self.history.iter().cloned().collect(),
        }
    }

    fn on_start(&mut self, now: Millis, delay_ms: u64, step: &mut Step) {
        if self.phase != Phase::Waiting || self.started {
            return;
        }
        self.started = true;
        if delay_ms == 0 {
            self.subscribe(format!("started: subscribing (expires {})", self.requested), step);
        } else {
            self.wake = Some(Wake { at: now.saturating_add(delay_ms), what: WakeFor::Subscribe, slack: 0 });
        }
    }

    fn on_timer(&mut self, now: Millis, step: &mut Step) {
        let Some(wake) = self.wake else { return };
        if now.saturating_add(wake.slack) < wake.at {
            return; // an earlier timer's late firing
        }
        self.wake = None;
        step.fired = true;
        match (wake.what, self.phase) {
            (WakeFor::Subscribe, Phase::Waiting) => {
                self.subscribe(format!("initial delay over: subscribing (expires {})", self.requested), step)
            }
            (WakeFor::Subscribe, Phase::Retrying) => {
                self.subscribe(format!("retrying: subscribing (expires {})", self.requested), step)
            }
            (WakeFor::Refresh, Phase::Active | Phase::Pending) => {
                self.outstanding = Some(Request::Refresh);
                self.notify_expires = None;
                step.sends.push(Action::Refresh { expires: self.requested });
                self.go(Phase::Refreshing, format!("refreshing (expires {})", self.requested), step);
            }
            (WakeFor::StopWait, Phase::Unsubscribing) => self.stop_now(
                format!("no answer to the unsubscribe within {}: stopped", secs(STOP_WAIT_MS)),
                step,
            ),
            (WakeFor::StopWait, Phase::Subscribing) if self.stop_pending => self.stop_now(
                format!("no answer to the SUBSCRIBE within {} of stop: stopped", secs(STOP_WAIT_MS)),
                step,
            ),
            // Not reached: each wake is armed in the phase it serves and cleared when leaving it.
            _ => {}
        }
    }

    fn on_response(
        &mut self,
        now: Millis,
        code: u16,
        expires: Option<u32>,
        min_expires: Option<u32>,
        retry_after: Option<u32>,
        step: &mut Step,
    ) {
        if code < 200 {
            return; // provisional: not a final response
        }
        if self.phase == Phase::Unsubscribing {
            self.last_response = Some(response_label(code));
            return self.stop_now(format!("unsubscribe answered {code}: stopped"), step);
        }
        let Some(request) = self.outstanding else { return };
        self.last_response = Some(response_label(code));
        let success = (200..300).contains(&code);
        if self.stop_pending {
            let granted = expires.or(self.notify_expires).unwrap_or(self.requested);
            if success && granted > 0 {
                return self.unsubscribe(now, format!("{code} after stop: unsubscribing"), step);
            }
            return self.stop_now(format!("{code} after stop: stopped"), step);
        }
        self.outstanding = None;
        match code {
            200..=299 => self.on_success(now, code, expires, step),
            401 | 407 => self.fixed_retry(
                now,
                format!("{code} credentials rejected"),
                Permanent::Forbidden,
                retry_after,
                step,
            ),
            403 => self.fixed_retry(now, "403 forbidden".to_owned(), Permanent::Forbidden, retry_after, step),
            408 | 500..=699 => self.backoff(now, code.to_string(), retry_after, step),
            423 => match min_expires {
                Some(min) if min > self.requested => {
                    self.failures = self.failures.saturating_add(1);
                    if self.failures > self.timing.max_retries {
                        return self
                            .give_up(format!("423: gave up after {} failed attempts", self.failures), step);
                    }
                    self.requested = min;
                    let reason = format!(
                        "423, Min-Expires {min}: resubscribing with expires {min} (failure {} of {})",
                        self.failures, self.timing.max_retries
                    );
                    self.subscribe(reason, step);
                }
                Some(min) => self.fixed_retry(
                    now,
                    format!("423 with Min-Expires {min}, not above {}", self.requested),
                    Permanent::Fatal,
                    retry_after,
                    step,
                ),
                None => self.fixed_retry(
                    now,
                    "423 without Min-Expires".to_owned(),
                    Permanent::Fatal,
                    retry_after,
                    step,
                ),
            },
            481 if request == Request::Refresh => {
                self.resubscribe_soon(now, "481 to the refresh".to_owned(), step)
            }
            _ => self.fixed_retry(now, code.to_string(), Permanent::Fatal, retry_after, step),
        }
    }

    /// A 2xx to the initial SUBSCRIBE or a refresh.
    fn on_success(&mut self, now: Millis, code: u16, expires: Option<u32>, step: &mut Step) {
        let granted = expires.or(self.notify_expires).unwrap_or(self.requested);
        self.notify_expires = None;
        if granted == 0 {
            // The server accepted and ended it at once: not a subscription.
            return self.backoff(now, format!("{code} with expires 0"), None, step);
        }
        self.failures = 0;
        self.granted = Some(granted);
        let refresh_in = self.arm_refresh(now, granted);
        let to = if self.server_pending { Phase::Pending } else { Phase::Active };
        if to != self.phase {
            self.go(to, format!("{code}, granted {granted} s, refresh in {}", secs(refresh_in)), step);
        }
    }

    /// NoResponse and SendFailed: the latest SUBSCRIBE got nowhere.
    fn on_not_answered(&mut self, now: Millis, what: String, label: String, step: &mut Step) {
        if self.phase == Phase::Unsubscribing {
            self.last_response = Some(label);
            return self.stop_now(format!("unsubscribe {what}: stopped"), step);
        }
        if self.outstanding.is_none() {
            return;
        }
        self.last_response = Some(label);
        if self.stop_pending {
            return self.stop_now(format!("{what} after stop: stopped"), step);
        }
        self.outstanding = None;
        self.backoff(now, what, None, step);
    }

    fn on_notify(&mut self, now: Millis, state: &SubscriptionState, step: &mut Step) {
        let stopping =
            self.phase == Phase::Unsubscribing || (self.phase == Phase::Subscribing && self.stop_pending);
        if stopping {
            if state.is_terminated() {
                self.stop_now(format!("NOTIFY {state}: stopped"), step);
            }
            return;
        }
        if !matches!(self.phase, Phase::Subscribing | Phase::Active | Phase::Pending | Phase::Refreshing) {
            return;
        }
        let what = format!("NOTIFY {state}");
        match state.kind {
            StateKind::Active | StateKind::Pending => {
                self.server_pending = state.kind == StateKind::Pending;
                if let Some(expires) = state.expires {
                    self.granted = Some(expires);
                    if self.outstanding.is_some() {
                        self.notify_expires = Some(expires);
                    }
                }
                if self.phase == Phase::Subscribing {
                    return; // the 2xx decides
                }
                let mut reason = what;
                if let Some(expires) = state.expires {
                    let refresh_in = self.arm_refresh(now, expires);
                    reason.push_str(&format!(", refresh in {}", secs(refresh_in)));
                }
                let to = if self.server_pending { Phase::Pending } else { Phase::Active };
                if to != self.phase {
                    self.go(to, reason, step);
                }
            }
            StateKind::Terminated => {
                // The server ended this dialog: nothing outstanding in it gets answered.
                self.outstanding = None;
                match &state.reason {
                    Some(TerminationReason::Deactivated | TerminationReason::Timeout) => {
                        self.resubscribe_soon(now, what, step)
                    }
                    Some(TerminationReason::Probation | TerminationReason::Giveup) => {
                        self.failures = self.failures.saturating_add(1);
                        if self.failures > self.timing.max_retries {
                            return self.give_up(
                                format!("{what}: gave up after {} failed attempts", self.failures),
                                step,
                            );
                        }
                        let delay = match state.retry_after {
                            Some(s) => u64::from(s) * 1000,
                            None => self.backoff_delay(None),
                        };
                        let reason = self.retry_reason(&what, delay);
                        self.retry_in(now, delay, reason, step);
                    }
                    Some(TerminationReason::Rejected | TerminationReason::Noresource) => {
                        self.clear_dialog_state();
                        self.wake = None;
                        self.go(Phase::Rejected, format!("{what}: ended by the server, not retrying"), step);
                    }
                    _ => self.backoff(now, what, state.retry_after, step),
                }
            }
        }
    }

    fn on_dialog_ended(&mut self, now: Millis, step: &mut Step) {
        match self.phase {
            Phase::Unsubscribing => self.stop_now("dialog ended: stopped".to_owned(), step),
            Phase::Subscribing if self.stop_pending => {
                self.stop_now("dialog ended after stop: stopped".to_owned(), step)
            }
            Phase::Subscribing | Phase::Active | Phase::Pending | Phase::Refreshing => {
                self.outstanding = None;
                self.backoff(now, "dialog ended".to_owned(), None, step)
            }
            // No dialog is expected: a late report of one already given up on.
            _ => {}
        }
    }

    fn on_resubscribe_now(&mut self, step: &mut Step) {
        if matches!(self.phase, Phase::Unsubscribing | Phase::Stopped) || self.stop_pending {
            return;
        }
        self.failures = 0;
        self.started = true;
        self.subscribe(format!("resubscribe asked: subscribing (expires {})", self.requested), step);
    }

    fn on_stop(&mut self, now: Millis, step: &mut Step) {
        match self.phase {
            Phase::Active | Phase::Pending | Phase::Refreshing => {
                self.unsubscribe(now, "stop: unsubscribing".to_owned(), step)
            }
            Phase::Subscribing => {
                if !self.stop_pending {
                    self.stop_pending = true;
                    self.wake = Some(Wake {
                        at: now.saturating_add(STOP_WAIT_MS),
                        what: WakeFor::StopWait,
                        slack: 0,
                    });
                }
            }
            Phase::Unsubscribing | Phase::Stopped => {}
            Phase::Waiting | Phase::Retrying | Phase::GivenUp | Phase::Rejected => {
                self.stop_now("stop: stopped".to_owned(), step)
            }
        }
    }

    fn go(&mut self, to: Phase, reason: String, step: &mut Step) {
        self.phase = to;
        step.reason = Some(reason);
    }

    /// Forgets what belonged to the current dialog.
    fn clear_dialog_state(&mut self) {
        self.outstanding = None;
        self.stop_pending = false;
        self.server_pending = false;
        self.notify_expires = None;
        self.expires_at = None;
    }

    /// An initial SUBSCRIBE in a new dialog, now.
    fn subscribe(&mut self, reason: String, step: &mut Step) {
        self.clear_dialog_state();
        self.started = true;
        self.wake = None;
        self.outstanding = Some(Request::Initial);
        step.sends.push(Action::Subscribe { expires: self.requested });
        self.go(Phase::Subscribing, reason, step);
    }

    fn unsubscribe(&mut self, now: Millis, reason: String, step: &mut Step) {
        self.clear_dialog_state();
        self.outstanding = Some(Request::Unsubscribe);
        self.wake = Some(Wake { at: now.saturating_add(STOP_WAIT_MS), what: WakeFor::StopWait, slack: 0 });
        step.sends.push(Action::Unsubscribe);
        self.go(Phase::Unsubscribing, reason, step);
    }

    fn stop_now(&mut self, reason: String, step: &mut Step) {
        self.clear_dialog_state();
        self.wake = None;
        step.sends.push(Action::DropDialog);
        self.go(Phase::Stopped, reason, step);
    }

    fn give_up(&mut self, reason: String, step: &mut Step) {
        self.clear_dialog_state();
        self.wake = None;
        self.go(Phase::GivenUp, reason, step);
    }

    fn retry_in(&mut self, now: Millis, delay_ms: u64, reason: String, step: &mut Step) {
        self.clear_dialog_state();
        self.wake = Some(Wake { at: now.saturating_add(delay_ms), what: WakeFor::Subscribe, slack: 0 });
        self.go(Phase::Retrying, reason, step);
    }

    fn retry_reason(&self, what: &str, delay_ms: u64) -> String {
        format!(
            "{what}, retry in {} (failure {} of {})",
            secs(delay_ms),
            self.failures,
            self.timing.max_retries
        )
    }

    /// Arms the refresh for a period of `granted` s from now; returns the time to it.
    fn arm_refresh(&mut self, now: Millis, granted: u32) -> u64 {
        let period = u64::from(granted) * 1000;
        let lead = MAX_REFRESH_LEAD_MS.min(period / 3);
        let refresh_in = period - lead;
        self.expires_at = Some(now.saturating_add(period));
        let slack = (lead / REFRESH_SLACK_DIVISOR).min(MAX_REFRESH_SLACK_MS);
        self.wake = Some(Wake { at: now.saturating_add(refresh_in), what: WakeFor::Refresh, slack });
        refresh_in
    }

    /// A temporary failure: retry with a growing delay, or give up after max_retries.
    fn backoff(&mut self, now: Millis, what: String, retry_after: Option<u32>, step: &mut Step) {
        self.failures = self.failures.saturating_add(1);
        if self.failures > self.timing.max_retries {
            return self.give_up(format!("{what}: gave up after {} failed attempts", self.failures), step);
        }
        let delay = self.backoff_delay(retry_after);
        let reason = self.retry_reason(&what, delay);
        self.retry_in(now, delay, reason, step);
    }

    /// retry_interval doubled for each failure after the first, capped, plus up to 20 %
    /// jitter (so that subscriptions failing together do not retry together), and at least
    /// Retry-After.
    fn backoff_delay(&mut self, retry_after: Option<u32>) -> u64 {
        // Timing built by hand may say 0; settings never do. 0 would retry in a tight loop.
        let interval = self.timing.retry_interval.max(1);
        let cap = u64::from(interval.max(MAX_BACKOFF_S)) * 1000;
        let doublings = self.failures.saturating_sub(1).min(40);
        let delay = (u64::from(interval) * 1000).saturating_mul(1 << doublings).min(cap);
        let span = delay / 5;
        let jitter = if span > 0 { self.next_random() % span } else { 0 };
        (delay + jitter).max(retry_after.map_or(0, |s| u64::from(s) * 1000))
    }

    /// A failure a retry soon would not mend: wait the configured interval (no doubling), or
    /// give up when it is 0.
    fn fixed_retry(
        &mut self,
        now: Millis,
        what: String,
        kind: Permanent,
        retry_after: Option<u32>,
        step: &mut Step,
    ) {
        let (interval, option) = match kind {
            Permanent::Forbidden => (self.timing.forbidden_retry_interval, "forbidden_retry_interval"),
            Permanent::Fatal => (self.timing.fatal_retry_interval, "fatal_retry_interval"),
        };
        self.failures = self.failures.saturating_add(1);
        if interval == 0 {
            return self.give_up(format!("{what}: given up ({option} = 0)"), step);
        }
        if self.failures > self.timing.max_retries {
            return self.give_up(format!("{what}: gave up after {} failed attempts", self.failures), step);
        }
        let delay = u64::from(interval.max(retry_after.unwrap_or(0))) * 1000;
        let reason = self.retry_reason(&what, delay);
        self.retry_in(now, delay, reason, step);
    }

    /// A new SUBSCRIBE at once, unless there were too many of those lately: then the backoff.
    fn resubscribe_soon(&mut self, now: Millis, what: String, step: &mut Step) {
        while self
            .recent_resubscribes
            .front()
            .is_some_and(|&at| now.saturating_sub(at) >= RESUBSCRIBE_WINDOW_MS)
        {
            self.recent_resubscribes.pop_front();
        }
        if self.recent_resubscribes.len() >= MAX_IMMEDIATE_RESUBSCRIBES {
            let what = format!("{what} (again within {})", secs(RESUBSCRIBE_WINDOW_MS));
            return self.backoff(now, what, None, step);
        }
        self.recent_resubscribes.push_back(now);
        self.subscribe(format!("{what}: resubscribing now"), step);
    }

    fn next_random(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }
}

/// Which retry interval a permanent-looking failure uses.
#[derive(Debug, Clone, Copy)]
enum Permanent {
    /// 403, or 401/407 the host could not answer.
    Forbidden,
    /// Other 3xx-6xx the backoff does not cover (404, 489, ...).
    Fatal,
}

/// The status line's text for a final response.
fn response_label(code: u16) -> String {
    match code {
        401 | 407 => format!("{code} (credentials rejected)"),
        _ => code.to_string(),
    }
}

/// Milliseconds as seconds for a reason text: "50 s", "2.1 s".
fn secs(ms: u64) -> String {
    let tenths = ms.saturating_add(50) / 100;
    if tenths.is_multiple_of(10) {
        format!("{} s", tenths / 10)
    } else {
        format!("{}.{} s", tenths / 10, tenths % 10)
    }
}

/// The host's text for a log line: one line of visible ASCII, at most 200 characters.
fn printable(text: &str) -> String {
    text.chars().take(200).map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

#[cfg(test)]
mod tests;
