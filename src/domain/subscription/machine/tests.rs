//! One test per rule of the machine, on a simulated clock (times in ms), and a long
//! pseudo-random run checking the invariants the host relies on.

use super::*;

/// The settings' defaults.
const T: Timing = Timing {
    expiration: 3600,
    retry_interval: 60,
    forbidden_retry_interval: 0,
    fatal_retry_interval: 0,
    max_retries: 10,
};

fn response(code: u16, expires: Option<u32>) -> Event {
    Event::Response { code, expires, min_expires: None, retry_after: None }
}

fn ok(expires: Option<u32>) -> Event {
    response(200, expires)
}

fn code(code: u16) -> Event {
    response(code, None)
}

fn retry_after(code: u16, seconds: u32) -> Event {
    Event::Response { code, expires: None, min_expires: None, retry_after: Some(seconds) }
}

fn too_brief(min_expires: Option<u32>) -> Event {
    Event::Response { code: 423, expires: None, min_expires, retry_after: None }
}

fn notify(header: &str) -> Event {
    Event::Notify(SubscriptionState::parse(header).unwrap())
}

fn change(at: Millis, from: Phase, to: Phase, reason: &str) -> Action {
    Action::Report(Change { at, from, to, reason: reason.to_owned() })
}

/// The one Report of `actions`.
fn report(actions: &[Action]) -> &Change {
    let reports: Vec<&Change> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Report(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(reports.len(), 1, "{actions:?}");
    reports[0]
}

/// The ArmTimer of `actions`, if any; checks there is at most one, after the SIP action and
/// before the Report.
fn armed(actions: &[Action]) -> Option<Option<Millis>> {
    let arms: Vec<(usize, Option<Millis>)> = actions
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match a {
            Action::ArmTimer(t) => Some((i, *t)),
            _ => None,
        })
        .collect();
    assert!(arms.len() <= 1, "{actions:?}");
    for (i, a) in actions.iter().enumerate() {
        if matches!(a, Action::Report(_)) {
            assert_eq!(i, actions.len() - 1, "Report comes last: {actions:?}");
        }
        if is_sip(a) {
            assert!(arms.iter().all(|(j, _)| *j > i), "ArmTimer after the SIP action: {actions:?}");
        }
    }
    arms.first().map(|(_, t)| *t)
}

fn is_sip(action: &Action) -> bool {
    matches!(
        action,
        Action::Subscribe { .. } | Action::Refresh { .. } | Action::Unsubscribe | Action::DropDialog
    )
}

/// A machine with its host: the clock and the armed timer.
struct Sim {
    m: Machine,
    now: Millis,
    armed: Option<Millis>,
}

impl Sim {
    fn new(timing: Timing) -> Self {
        Self { m: Machine::new(timing, 7), now: 0, armed: None }
    }

    /// Started at 0 without delay and answered 200 with `granted` at 100: Active.
    fn active(timing: Timing, granted: u32) -> Self {
        let mut sim = Self::new(timing);
        sim.at(0, Event::Start { delay_ms: 0 });
        sim.at(100, ok(Some(granted)));
        assert_eq!(sim.phase(), Phase::Active);
        sim
    }

    /// Feeds `event` at `at`, which becomes now.
    fn at(&mut self, at: Millis, event: Event) -> Vec<Action> {
        self.now = at;
        if event == Event::Timer && self.armed.is_some_and(|t| at >= t) {
            self.armed = None; // spent
        }
        let actions = self.m.handle(at, event);
        if let Some(t) = armed(&actions) {
            self.armed = t;
        }
        actions
    }

    /// Feeds `event` `ms` after the last one.
    fn after(&mut self, ms: u64, event: Event) -> Vec<Action> {
        self.at(self.now + ms, event)
    }

    /// Moves the clock to the armed time and fires the timer.
    fn fire(&mut self) -> Vec<Action> {
        let at = self.armed.expect("a timer is armed");
        self.at(at, Event::Timer)
    }

    /// The time from now to the armed timer.
    fn gap(&self) -> u64 {
        self.armed.expect("a timer is armed") - self.now
    }

    fn phase(&self) -> Phase {
        self.m.phase()
    }

    fn status(&self) -> Status {
        self.m.status(self.now)
    }
}

// ---- start ----

#[test]
fn new_machine_waits_without_a_timer() {
    let m = Machine::new(T, 1);
    assert_eq!(m.phase(), Phase::Waiting);
    assert_eq!(
        m.status(0),
        Status {
            phase: Phase::Waiting,
            last_response: None,
            granted: None,
            expires_in_ms: None,
            next_subscribe_in_ms: None,
            failures: 0,
            history: vec![],
        }
    );
}

#[test]
fn start_waits_the_initial_delay_then_subscribes() {
    let mut m = Machine::new(T, 1);
    assert_eq!(m.handle(1000, Event::Start { delay_ms: 5000 }), [Action::ArmTimer(Some(6000))]);
    assert_eq!(m.phase(), Phase::Waiting);
    assert_eq!(m.status(1000).next_subscribe_in_ms, Some(5000));
    assert_eq!(m.handle(5999, Event::Timer), []);
    assert_eq!(
        m.handle(6000, Event::Timer),
        [
            Action::Subscribe { expires: 3600 },
            Action::ArmTimer(None),
            change(
                6000,
                Phase::Waiting,
                Phase::Subscribing,
                "initial delay over: subscribing (expires 3600)"
            ),
        ]
    );
    assert_eq!(m.phase(), Phase::Subscribing);
    assert_eq!(m.status(6000).next_subscribe_in_ms, None);
}

#[test]
fn a_late_firing_still_counts() {
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 100 });
    assert_eq!(m.handle(9000, Event::Timer)[0], Action::Subscribe { expires: 3600 });
}

#[test]
fn start_without_delay_subscribes_at_once() {
    let mut m = Machine::new(T, 1);
    assert_eq!(
        m.handle(0, Event::Start { delay_ms: 0 }),
        [
            Action::Subscribe { expires: 3600 },
            Action::ArmTimer(None),
            change(0, Phase::Waiting, Phase::Subscribing, "started: subscribing (expires 3600)"),
        ]
    );
}

#[test]
fn stale_or_unarmed_timers_and_a_second_start_do_nothing() {
    let mut m = Machine::new(T, 1);
    assert_eq!(m.handle(0, Event::Timer), []);
    m.handle(0, Event::Start { delay_ms: 1000 });
    assert_eq!(m.handle(500, Event::Timer), []);
    assert_eq!(m.handle(600, Event::Start { delay_ms: 0 }), []);
    assert_eq!(m.phase(), Phase::Waiting);
    assert_eq!(m.handle(1000, Event::Timer).len(), 3);
    assert_eq!(m.handle(1000, Event::Timer), [], "a timer fires once");
    assert_eq!(m.handle(2000, Event::Start { delay_ms: 0 }), []);
}

// ---- 2xx and refresh ----

#[test]
fn ok_activates_and_refreshes_before_the_granted_period_ends() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(
        s.at(100, ok(Some(60))),
        [
            Action::ArmTimer(Some(50_100)),
            change(100, Phase::Subscribing, Phase::Active, "200, granted 60 s, refresh in 50 s"),
        ]
    );
    let st = s.status();
    assert_eq!(
        (st.last_response.as_deref(), st.granted, st.expires_in_ms, st.next_subscribe_in_ms, st.failures),
        (Some("200"), Some(60), Some(60_000), Some(50_000), 0)
    );
    assert_eq!(
        s.fire(),
        [
            Action::Refresh { expires: 3600 },
            Action::ArmTimer(None),
            change(50_100, Phase::Active, Phase::Refreshing, "refreshing (expires 3600)"),
        ]
    );
    assert_eq!(s.status().expires_in_ms, Some(10_000), "still established while refreshing");
    assert_eq!(
        s.at(50_200, ok(Some(60))),
        [
            Action::ArmTimer(Some(100_200)),
            change(50_200, Phase::Refreshing, Phase::Active, "200, granted 60 s, refresh in 50 s"),
        ]
    );
}

#[test]
fn refresh_lead_is_ten_seconds_or_a_third_of_the_period() {
    for (granted, refresh_at) in
        [(60, 50_000), (3600, 3_590_000), (9, 6_000), (30, 20_000), (31, 21_000), (1, 667)]
    {
        let mut m = Machine::new(T, 1);
        m.handle(0, Event::Start { delay_ms: 0 });
        assert_eq!(
            m.handle(0, ok(Some(granted)))[0],
            Action::ArmTimer(Some(refresh_at)),
            "granted {granted}"
        );
    }
}

#[test]
fn a_refresh_may_fire_a_tenth_of_its_lead_early_at_most_a_second() {
    for (granted, refresh_at, slack) in
        [(60, 50_000, 1_000), (3600, 3_590_000, 1_000), (9, 6_000, 300), (1, 667, 33)]
    {
        let mut m = Machine::new(T, 1);
        m.handle(0, Event::Start { delay_ms: 0 });
        m.handle(0, ok(Some(granted)));
        assert_eq!(m.wake_slack(), slack, "granted {granted}");
        assert_eq!(m.handle(refresh_at - slack - 1, Event::Timer), [], "more than the slack early: ignored");
        assert_eq!(m.phase(), Phase::Active);
        let fired = m.handle(refresh_at - slack, Event::Timer);
        assert_eq!(fired[0], Action::Refresh { expires: 3600 }, "granted {granted}: within the slack");
        assert_eq!(m.wake_slack(), 0, "nothing armed while refreshing");
    }
}

#[test]
fn only_refreshes_have_slack() {
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 1_000 });
    assert_eq!(m.wake_slack(), 0, "the initial delay");
    assert_eq!(m.handle(999, Event::Timer), [], "not a millisecond early");
    m.handle(1_000, Event::Timer);
    m.handle(1_100, code(503));
    assert_eq!((m.phase(), m.wake_slack()), (Phase::Retrying, 0), "a retry");
}

#[test]
fn ok_without_expires_grants_what_was_asked() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(s.at(0, ok(None))[0], Action::ArmTimer(Some(3_590_000)));
    assert_eq!(s.status().granted, Some(3600));
}

#[test]
fn accepted_202_is_active() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    let actions = s.at(10, response(202, Some(60)));
    assert_eq!(report(&actions).reason, "202, granted 60 s, refresh in 50 s");
    assert_eq!(s.phase(), Phase::Active);
    assert_eq!(s.status().last_response.as_deref(), Some("202"));
}

#[test]
fn ok_with_expires_zero_is_a_failure_with_backoff() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    let actions = s.at(100, ok(Some(0)));
    assert_eq!(s.phase(), Phase::Retrying);
    assert!(report(&actions).reason.starts_with("200 with expires 0, retry in "), "{actions:?}");
    assert!(report(&actions).reason.ends_with(" (failure 1 of 10)"), "{actions:?}");
    assert!((60_000..72_000).contains(&s.gap()), "{}", s.gap());
    assert_eq!(s.status().failures, 1);
    // The same for a refresh: the retry is a new dialog.
    let mut s = Sim::active(T, 60);
    s.fire();
    s.after(100, ok(Some(0)));
    assert_eq!(s.phase(), Phase::Retrying);
    assert_eq!(s.fire()[0], Action::Subscribe { expires: 3600 });
}

#[test]
fn success_resets_the_failure_count() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, code(503));
    s.fire();
    s.after(10, code(503));
    assert_eq!(s.status().failures, 2);
    s.fire();
    s.after(10, ok(Some(60)));
    assert_eq!(s.status().failures, 0);
}

// ---- NOTIFY while established or before the 2xx ----

#[test]
fn notify_while_established_rearms_the_refresh() {
    let mut s = Sim::active(T, 60);
    assert_eq!(s.at(10_000, notify("active;expires=30")), [Action::ArmTimer(Some(30_000))]);
    assert_eq!((s.status().granted, s.status().expires_in_ms), (Some(30), Some(30_000)));
    assert_eq!(
        s.at(11_000, notify("pending;expires=120")),
        [
            Action::ArmTimer(Some(121_000)),
            change(11_000, Phase::Active, Phase::Pending, "NOTIFY pending;expires=120, refresh in 110 s"),
        ]
    );
    assert_eq!(
        s.at(12_000, notify("active")),
        [Action::ArmTimer(Some(121_000)), change(12_000, Phase::Pending, Phase::Active, "NOTIFY active")]
    );
    assert_eq!(s.at(13_000, notify("active")), [], "nothing changes");
    // A refresh while the server says pending comes back Pending.
    s.at(14_000, notify("pending"));
    s.fire();
    s.after(10, ok(Some(60)));
    assert_eq!(s.phase(), Phase::Pending);
}

#[test]
fn notify_before_the_2xx_is_remembered() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(s.at(50, notify("pending;expires=120")), []);
    assert_eq!((s.phase(), s.status().granted), (Phase::Subscribing, Some(120)));
    assert_eq!(
        s.at(100, ok(None)),
        [
            Action::ArmTimer(Some(110_100)),
            change(100, Phase::Subscribing, Phase::Pending, "200, granted 120 s, refresh in 110 s"),
        ]
    );

    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(50, notify("active;expires=120"));
    assert_eq!(s.at(100, ok(Some(60)))[0], Action::ArmTimer(Some(50_100)), "the 2xx's Expires wins");
    assert_eq!((s.phase(), s.status().granted), (Phase::Active, Some(60)));

    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(50, notify("active"));
    s.at(100, ok(None));
    assert_eq!(s.status().granted, Some(3600));
}

#[test]
fn notify_during_a_refresh_reestablishes() {
    let mut s = Sim::active(T, 60);
    s.fire();
    assert_eq!(s.phase(), Phase::Refreshing);
    assert_eq!(
        s.at(50_150, notify("active;expires=40")),
        [
            Action::ArmTimer(Some(80_150)),
            change(50_150, Phase::Refreshing, Phase::Active, "NOTIFY active;expires=40, refresh in 30 s"),
        ]
    );
    // The refresh's 2xx without Expires takes the NOTIFY's, and changes no phase.
    assert_eq!(s.at(50_200, ok(None)), [Action::ArmTimer(Some(80_200))]);
    assert_eq!(s.status().granted, Some(40));
}

// ---- 423 and 481 ----

#[test]
fn interval_too_brief_raises_the_expires_asked() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(
        s.at(100, too_brief(Some(7200))),
        [
            Action::Subscribe { expires: 7200 },
            change(
                100,
                Phase::Subscribing,
                Phase::Subscribing,
                "423, Min-Expires 7200: resubscribing with expires 7200 (failure 1 of 10)"
            ),
        ]
    );
    assert_eq!(s.status().failures, 1);
    assert_eq!(s.at(200, ok(None))[0], Action::ArmTimer(Some(200 + 7_190_000)));
    assert_eq!(s.status().failures, 0);
    assert_eq!(s.fire()[0], Action::Refresh { expires: 7200 }, "the refresh asks the raised expires");
    // As does a retry after a failure.
    s.after(10, code(503));
    assert_eq!(s.fire()[0], Action::Subscribe { expires: 7200 });
}

#[test]
fn a_423_without_a_higher_min_expires_is_fatal() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(100, too_brief(Some(7200)));
    assert_eq!(
        s.at(200, too_brief(Some(7200))),
        [
            Action::ArmTimer(None),
            change(
                200,
                Phase::Subscribing,
                Phase::GivenUp,
                "423 with Min-Expires 7200, not above 7200: given up (fatal_retry_interval = 0)"
            ),
        ]
    );
    for (event, reason) in [
        (too_brief(None), "423 without Min-Expires: given up (fatal_retry_interval = 0)"),
        (too_brief(Some(60)), "423 with Min-Expires 60, not above 3600: given up (fatal_retry_interval = 0)"),
    ] {
        let mut s = Sim::new(T);
        s.at(0, Event::Start { delay_ms: 0 });
        assert_eq!(report(&s.at(100, event)).reason, reason);
        assert_eq!(s.phase(), Phase::GivenUp);
    }
    let mut s = Sim::new(Timing { fatal_retry_interval: 120, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(100, too_brief(None));
    assert_eq!((s.phase(), s.gap()), (Phase::Retrying, 120_000));
}

#[test]
fn a_423_counts_toward_max_retries() {
    let mut s = Sim::new(Timing { max_retries: 1, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, code(503));
    s.fire();
    let actions = s.after(10, too_brief(Some(7200)));
    assert_eq!(report(&actions).reason, "423: gave up after 2 failed attempts");
    assert_eq!(s.phase(), Phase::GivenUp);
}

#[test]
fn a_481_to_a_refresh_resubscribes_at_once_without_counting() {
    let mut s = Sim::active(T, 60);
    s.fire();
    assert_eq!(
        s.at(50_200, code(481)),
        [
            Action::Subscribe { expires: 3600 },
            Action::ArmTimer(None),
            change(50_200, Phase::Refreshing, Phase::Subscribing, "481 to the refresh: resubscribing now"),
        ]
    );
    assert_eq!(s.status().failures, 0);
}

#[test]
fn a_481_to_the_initial_subscribe_is_fatal() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(report(&s.at(100, code(481))).reason, "481: given up (fatal_retry_interval = 0)");
    assert_eq!(s.phase(), Phase::GivenUp);
}

// ---- backoff ----

#[test]
fn temporary_failures_back_off_with_growing_gaps() {
    let mut s = Sim::new(Timing { retry_interval: 1, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    let mut gaps = Vec::new();
    for (failure, range) in [(1, 1000..1200), (2, 2000..2400), (3, 4000..4800)] {
        let actions = s.after(100, code(503));
        assert_eq!(s.phase(), Phase::Retrying);
        let gap = s.gap();
        assert!(range.contains(&gap), "failure {failure}: {gap}");
        assert_eq!(
            report(&actions).reason,
            format!("503, retry in {} (failure {failure} of 10)", secs(gap)),
            "{actions:?}"
        );
        assert_eq!(s.status().next_subscribe_in_ms, Some(gap));
        gaps.push(gap);
        assert_eq!(s.fire()[0], Action::Subscribe { expires: 3600 });
    }
    assert!(gaps.windows(2).all(|w| w[0] < w[1]), "{gaps:?}");
    s.after(100, ok(Some(60)));
    assert_eq!((s.phase(), s.status().failures), (Phase::Active, 0));
}

#[test]
fn backoff_is_capped_at_an_hour_or_the_retry_interval() {
    let mut s = Sim::new(Timing { max_retries: 100, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    for failure in 1..=20 {
        s.after(10, code(503));
        let gap = s.gap();
        assert!(gap < 4_320_000, "failure {failure}: {gap}");
        if failure >= 7 {
            assert!(gap >= 3_600_000, "failure {failure}: {gap}");
        }
        s.fire();
    }
    let mut s = Sim::new(Timing { retry_interval: 7200, max_retries: 100, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    for failure in 1..=5 {
        s.after(10, code(503));
        assert!((7_200_000..8_640_000).contains(&s.gap()), "failure {failure}: {}", s.gap());
        s.fire();
    }
}

#[test]
fn retry_after_lengthens_the_backoff_never_shortens_it() {
    let mut s = Sim::new(Timing { retry_interval: 1, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, retry_after(503, 100));
    assert_eq!(s.gap(), 100_000);
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, retry_after(503, 5));
    assert!(s.gap() >= 60_000, "{}", s.gap());
}

#[test]
fn every_temporary_failure_backs_off() {
    for (event, label) in [
        (code(408), "408"),
        (Event::NoResponse, "timeout"),
        (Event::SendFailed("no transport".to_owned()), "not sent: no transport"),
        (code(500), "500"),
        (code(503), "503"),
        (code(599), "599"),
        (code(600), "600"),
        (code(603), "603"),
        (code(699), "699"),
        (ok(Some(0)), "200"),
    ] {
        let mut s = Sim::new(T);
        s.at(0, Event::Start { delay_ms: 0 });
        s.at(100, event.clone());
        assert_eq!(s.phase(), Phase::Retrying, "{event:?}");
        assert_eq!(s.status().failures, 1, "{event:?}");
        assert!((60_000..72_000).contains(&s.gap()), "{event:?}: {}", s.gap());
        assert_eq!(s.status().last_response.as_deref(), Some(label));
        // The same to a refresh.
        let mut s = Sim::active(T, 60);
        s.fire();
        s.after(100, event.clone());
        assert_eq!(s.phase(), Phase::Retrying, "refresh, {event:?}");
        assert_eq!(s.fire()[0], Action::Subscribe { expires: 3600 }, "a new dialog");
    }
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert!(report(&s.at(100, Event::NoResponse)).reason.starts_with("timeout, retry in "));
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    let actions = s.at(100, Event::SendFailed("no route\r\nX".to_owned()));
    assert!(report(&actions).reason.starts_with("not sent (no route??X), retry in "), "{actions:?}");
    assert_eq!(s.status().last_response.as_deref(), Some("not sent: no route??X"));
}

#[test]
fn gives_up_after_max_retries() {
    let mut s = Sim::new(Timing { max_retries: 2, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, code(503));
    s.fire();
    s.after(10, code(503));
    s.fire();
    let now = s.now + 10;
    assert_eq!(
        s.at(now, code(503)),
        [
            Action::ArmTimer(None),
            change(now, Phase::Subscribing, Phase::GivenUp, "503: gave up after 3 failed attempts")
        ]
    );
    assert_eq!((s.status().failures, s.status().next_subscribe_in_ms), (3, None));
    for event in
        [Event::Timer, ok(Some(60)), Event::NoResponse, notify("active;expires=60"), Event::DialogEnded]
    {
        assert_eq!(s.after(100_000, event.clone()), [], "{event:?}");
    }
    let mut s = Sim::new(Timing { max_retries: 0, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(report(&s.after(10, Event::NoResponse)).reason, "timeout: gave up after 1 failed attempts");
}

// ---- 401/403/407 and other permanent failures ----

#[test]
fn forbidden_gives_up_at_once_by_default() {
    for (code_, reason, label) in [
        (403, "403 forbidden: given up (forbidden_retry_interval = 0)", "403"),
        (
            401,
            "401 credentials rejected: given up (forbidden_retry_interval = 0)",
            "401 (credentials rejected)",
        ),
        (
            407,
            "407 credentials rejected: given up (forbidden_retry_interval = 0)",
            "407 (credentials rejected)",
        ),
    ] {
        let mut s = Sim::new(T);
        s.at(0, Event::Start { delay_ms: 0 });
        assert_eq!(
            s.at(100, code(code_)),
            [Action::ArmTimer(None), change(100, Phase::Subscribing, Phase::GivenUp, reason)]
        );
        assert_eq!(s.status().last_response.as_deref(), Some(label));
    }
}

#[test]
fn forbidden_retry_interval_retries_without_doubling() {
    let mut s = Sim::new(Timing { forbidden_retry_interval: 30, max_retries: 3, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    let actions = s.after(10, code(403));
    assert_eq!(report(&actions).reason, "403 forbidden, retry in 30 s (failure 1 of 3)");
    assert_eq!(s.gap(), 30_000);
    s.fire();
    s.after(10, code(401));
    assert_eq!(s.gap(), 30_000, "no doubling");
    s.fire();
    s.after(10, retry_after(407, 100));
    assert_eq!(s.gap(), 100_000, "Retry-After is longer");
    s.fire();
    assert_eq!(report(&s.after(10, code(403))).reason, "403 forbidden: gave up after 4 failed attempts");
}

#[test]
fn other_final_codes_are_fatal() {
    for code_ in [300, 302, 400, 404, 405, 420, 480, 489, 499] {
        let mut s = Sim::new(T);
        s.at(0, Event::Start { delay_ms: 0 });
        let actions = s.at(100, code(code_));
        assert_eq!(report(&actions).reason, format!("{code_}: given up (fatal_retry_interval = 0)"));
        assert_eq!(s.phase(), Phase::GivenUp);
    }
    let mut s = Sim::new(Timing { fatal_retry_interval: 120, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, code(404));
    assert_eq!(s.gap(), 120_000);
    s.fire();
    s.after(10, code(404));
    assert_eq!(s.gap(), 120_000, "no doubling");
}

// ---- NOTIFY terminated ----

#[test]
fn terminated_deactivated_or_timeout_resubscribes_at_once() {
    for reason in ["deactivated", "timeout"] {
        let mut s = Sim::active(T, 60);
        let header = format!("terminated;reason={reason}");
        assert_eq!(
            s.at(1000, notify(&header)),
            [
                Action::Subscribe { expires: 3600 },
                Action::ArmTimer(None),
                change(
                    1000,
                    Phase::Active,
                    Phase::Subscribing,
                    &format!("NOTIFY {header}: resubscribing now")
                ),
            ]
        );
        assert_eq!(s.status().failures, 0);
    }
}

#[test]
fn immediate_resubscribes_are_limited() {
    let mut s = Sim::active(T, 60);
    for _ in 0..3 {
        assert_eq!(
            s.after(1000, notify("terminated;reason=deactivated"))[0],
            Action::Subscribe { expires: 3600 }
        );
        s.after(100, ok(Some(60)));
    }
    let actions = s.after(1000, notify("terminated;reason=deactivated"));
    assert_eq!(s.phase(), Phase::Retrying, "{actions:?}");
    assert!(
        report(&actions)
            .reason
            .starts_with("NOTIFY terminated;reason=deactivated (again within 60 s), retry in "),
        "{actions:?}"
    );
    s.fire();
    s.after(100, ok(Some(3600)));
    // A minute after the first ones, it is immediate again.
    assert_eq!(s.at(100_000, notify("terminated;reason=timeout"))[0], Action::Subscribe { expires: 3600 });
}

#[test]
fn terminated_probation_or_giveup_waits_then_resubscribes() {
    let mut s = Sim::active(T, 60);
    let actions = s.at(1000, notify("terminated;reason=probation;retry-after=30"));
    assert_eq!(
        actions,
        [
            Action::ArmTimer(Some(31_000)),
            change(
                1000,
                Phase::Active,
                Phase::Retrying,
                "NOTIFY terminated;reason=probation;retry-after=30, retry in 30 s (failure 1 of 10)"
            ),
        ]
    );
    assert_eq!(s.fire()[0], Action::Subscribe { expires: 3600 });
    let mut s = Sim::active(T, 60);
    s.at(1000, notify("terminated;reason=giveup"));
    assert_eq!(s.phase(), Phase::Retrying);
    assert!((60_000..72_000).contains(&s.gap()), "{}", s.gap());
}

#[test]
fn terminated_rejected_or_noresource_ends_it() {
    for reason in ["rejected", "noresource"] {
        let mut s = Sim::active(T, 60);
        let header = format!("terminated;reason={reason}");
        assert_eq!(
            s.at(1000, notify(&header)),
            [
                Action::ArmTimer(None),
                change(
                    1000,
                    Phase::Active,
                    Phase::Rejected,
                    &format!("NOTIFY {header}: ended by the server, not retrying")
                ),
            ]
        );
        assert_eq!((s.status().next_subscribe_in_ms, s.status().expires_in_ms), (None, None));
        for event in
            [Event::Timer, ok(Some(60)), notify("active;expires=60"), Event::DialogEnded, Event::NoResponse]
        {
            assert_eq!(s.after(100_000, event.clone()), [], "{event:?}");
        }
        assert_eq!(s.after(10, Event::ResubscribeNow)[0], Action::Subscribe { expires: 3600 });
    }
}

#[test]
fn terminated_without_a_known_reason_backs_off() {
    for header in ["terminated", "terminated;reason=invariant", "terminated;reason=moved"] {
        let mut s = Sim::active(T, 60);
        let actions = s.at(1000, notify(header));
        assert_eq!(s.phase(), Phase::Retrying, "{header}");
        assert!(report(&actions).reason.starts_with(&format!("NOTIFY {header}, retry in ")), "{actions:?}");
        assert!((60_000..72_000).contains(&s.gap()), "{header}: {}", s.gap());
    }
    let mut s = Sim::active(T, 60);
    s.at(1000, notify("terminated;retry-after=300"));
    assert!(s.gap() >= 300_000);
}

#[test]
fn terminated_before_the_2xx_wins_over_it() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(50, notify("terminated;reason=rejected"));
    assert_eq!(s.phase(), Phase::Rejected);
    assert_eq!(s.at(100, ok(Some(60))), []);
    // deactivated before the 2xx: a new dialog at once, the same phase started over.
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    let actions = s.at(50, notify("terminated;reason=deactivated"));
    assert_eq!(actions[0], Action::Subscribe { expires: 3600 });
    assert_eq!((report(&actions).from, report(&actions).to), (Phase::Subscribing, Phase::Subscribing));
}

// ---- DialogEnded ----

#[test]
fn dialog_end_without_a_dialog_is_ignored() {
    let mut s = Sim::new(T);
    assert_eq!(s.at(0, Event::DialogEnded), [], "not started");
    s.at(0, Event::Start { delay_ms: 1000 });
    assert_eq!(s.at(10, Event::DialogEnded), [], "initial delay");
    s.fire();
    s.after(10, code(503));
    assert_eq!(s.after(10, Event::DialogEnded), [], "Retrying: right after the failure");
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(10, code(403));
    assert_eq!(s.after(10, Event::DialogEnded), [], "GivenUp");
    let mut s = Sim::active(T, 60);
    s.after(10, notify("terminated;reason=noresource"));
    assert_eq!(s.after(10, Event::DialogEnded), [], "Rejected");
}

#[test]
fn dialog_end_with_a_dialog_backs_off() {
    let mut s = Sim::active(T, 60);
    let actions = s.after(10, Event::DialogEnded);
    assert_eq!(s.phase(), Phase::Retrying);
    assert!(report(&actions).reason.starts_with("dialog ended, retry in "), "{actions:?}");
    assert_eq!(s.status().failures, 1);
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, Event::DialogEnded);
    assert_eq!(s.phase(), Phase::Retrying, "while the SUBSCRIBE is outstanding");
    let mut s = Sim::active(T, 60);
    s.fire();
    s.after(10, Event::DialogEnded);
    assert_eq!(s.phase(), Phase::Retrying, "while refreshing");
}

// ---- events out of place ----

#[test]
fn events_out_of_place_are_ignored() {
    let stray = [
        ok(Some(60)),
        code(503),
        Event::NoResponse,
        Event::SendFailed("x".to_owned()),
        notify("active;expires=60"),
        notify("terminated;reason=deactivated"),
    ];
    let mut s = Sim::new(T);
    for event in &stray {
        assert_eq!(s.at(0, event.clone()), [], "Waiting: {event:?}");
    }
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(10, code(503));
    for event in &stray {
        assert_eq!(s.after(10, event.clone()), [], "Retrying: {event:?}");
    }
    let mut s = Sim::active(T, 60);
    for event in [ok(Some(60)), code(503), Event::NoResponse, Event::SendFailed("x".to_owned())] {
        assert_eq!(s.after(10, event.clone()), [], "Active, nothing outstanding: {event:?}");
    }
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    for provisional in [100, 180, 199] {
        assert_eq!(s.after(10, code(provisional)), []);
    }
    assert_eq!(s.phase(), Phase::Subscribing);
    assert_eq!(s.status().last_response, None);
}

// ---- ResubscribeNow ----

#[test]
fn resubscribe_now_starts_over_with_no_failures() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(10, code(403));
    assert_eq!(s.status().failures, 1);
    assert_eq!(
        s.at(20, Event::ResubscribeNow),
        [
            Action::Subscribe { expires: 3600 },
            Action::ArmTimer(None),
            change(20, Phase::GivenUp, Phase::Subscribing, "resubscribe asked: subscribing (expires 3600)"),
        ]
    );
    assert_eq!(s.status().failures, 0);

    let mut m = Machine::new(T, 1);
    assert_eq!(m.handle(0, Event::ResubscribeNow)[0], Action::Subscribe { expires: 3600 }, "before Start");
    assert_eq!(m.handle(0, Event::Start { delay_ms: 0 }), [], "Start is then spent");
    let actions = m.handle(10, Event::ResubscribeNow);
    assert_eq!(actions[0], Action::Subscribe { expires: 3600 });
    assert_eq!((report(&actions).from, report(&actions).to), (Phase::Subscribing, Phase::Subscribing));

    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.at(10, code(503));
    assert_eq!(
        s.after(10, Event::ResubscribeNow)[..2],
        [Action::Subscribe { expires: 3600 }, Action::ArmTimer(None)]
    );
    assert_eq!(s.status().failures, 0);

    let mut s = Sim::active(T, 60);
    assert_eq!(
        s.after(10, Event::ResubscribeNow)[..2],
        [Action::Subscribe { expires: 3600 }, Action::ArmTimer(None)]
    );
}

#[test]
fn resubscribe_now_is_ignored_while_stopping() {
    let mut s = Sim::active(T, 60);
    s.after(10, Event::Stop);
    assert_eq!(s.after(10, Event::ResubscribeNow), []);
    s.fire();
    assert_eq!(s.phase(), Phase::Stopped);
    assert_eq!(s.after(10, Event::ResubscribeNow), []);
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, Event::Stop);
    assert_eq!(s.after(10, Event::ResubscribeNow), [], "stop pending");
}

// ---- Stop ----

#[test]
fn stop_when_established_unsubscribes_and_waits_two_seconds() {
    let enders: [(Event, &str); 7] = [
        (ok(Some(0)), "unsubscribe answered 200: stopped"),
        (code(481), "unsubscribe answered 481: stopped"),
        (Event::NoResponse, "unsubscribe timeout: stopped"),
        (Event::SendFailed("x".to_owned()), "unsubscribe not sent (x): stopped"),
        (Event::DialogEnded, "dialog ended: stopped"),
        (notify("terminated;reason=timeout"), "NOTIFY terminated;reason=timeout: stopped"),
        (Event::Timer, "no answer to the unsubscribe within 2 s: stopped"),
    ];
    for (ender, reason) in enders {
        let mut s = Sim::active(T, 60);
        assert_eq!(
            s.at(1000, Event::Stop),
            [
                Action::Unsubscribe,
                Action::ArmTimer(Some(3000)),
                change(1000, Phase::Active, Phase::Unsubscribing, "stop: unsubscribing"),
            ]
        );
        assert_eq!(s.status().next_subscribe_in_ms, None, "no SUBSCRIBE planned");
        assert_eq!(s.at(2999, Event::Timer), []);
        assert_eq!(s.at(2999, notify("active;expires=60")), []);
        assert_eq!(s.at(2999, Event::Stop), []);
        assert_eq!(
            s.at(3000, ender.clone()),
            [
                Action::DropDialog,
                Action::ArmTimer(None),
                change(3000, Phase::Unsubscribing, Phase::Stopped, reason)
            ],
            "{ender:?}"
        );
    }
    for setup in [notify("pending"), Event::Timer] {
        let mut s = Sim::active(T, 60);
        if setup == Event::Timer {
            s.fire();
        } else {
            s.after(10, setup);
        }
        let before = s.phase();
        let now = s.now + 10;
        assert_eq!(
            s.at(now, Event::Stop),
            [
                Action::Unsubscribe,
                Action::ArmTimer(Some(now + 2000)),
                change(now, before, Phase::Unsubscribing, "stop: unsubscribing")
            ]
        );
    }
}

#[test]
fn stop_while_subscribing_waits_for_the_answer() {
    let mut s = Sim::new(T);
    s.at(0, Event::Start { delay_ms: 0 });
    assert_eq!(s.at(500, Event::Stop), [Action::ArmTimer(Some(2500))]);
    assert_eq!((s.phase(), s.status().next_subscribe_in_ms), (Phase::Subscribing, None));
    assert_eq!(s.at(600, Event::Stop), [], "once");
    assert_eq!(s.at(700, notify("active;expires=60")), []);
    assert_eq!(
        s.at(1000, ok(Some(60))),
        [
            Action::Unsubscribe,
            Action::ArmTimer(Some(3000)),
            change(1000, Phase::Subscribing, Phase::Unsubscribing, "200 after stop: unsubscribing"),
        ]
    );
    assert_eq!(s.fire()[..2], [Action::DropDialog, Action::ArmTimer(None)]);
    assert_eq!(s.phase(), Phase::Stopped);

    for (ender, reason) in [
        (code(503), "503 after stop: stopped"),
        (ok(Some(0)), "200 after stop: stopped"),
        (Event::NoResponse, "timeout after stop: stopped"),
        (Event::DialogEnded, "dialog ended after stop: stopped"),
        (notify("terminated;reason=rejected"), "NOTIFY terminated;reason=rejected: stopped"),
        (Event::Timer, "no answer to the SUBSCRIBE within 2 s of stop: stopped"),
    ] {
        let mut s = Sim::new(T);
        s.at(0, Event::Start { delay_ms: 0 });
        s.at(500, Event::Stop);
        assert_eq!(
            s.at(2500, ender.clone()),
            [
                Action::DropDialog,
                Action::ArmTimer(None),
                change(2500, Phase::Subscribing, Phase::Stopped, reason)
            ],
            "{ender:?}"
        );
    }
}

#[test]
fn stop_otherwise_stops_at_once() {
    let expected =
        |from| [Action::DropDialog, Action::ArmTimer(None), change(5, from, Phase::Stopped, "stop: stopped")];
    let mut m = Machine::new(T, 1);
    assert_eq!(m.handle(5, Event::Stop), expected(Phase::Waiting), "not started");
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 1000 });
    assert_eq!(m.handle(5, Event::Stop), expected(Phase::Waiting), "initial delay");
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 0 });
    m.handle(1, code(503));
    assert_eq!(m.handle(5, Event::Stop), expected(Phase::Retrying));
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 0 });
    m.handle(1, code(404));
    assert_eq!(m.handle(5, Event::Stop), expected(Phase::GivenUp));
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Start { delay_ms: 0 });
    m.handle(1, notify("terminated;reason=rejected"));
    assert_eq!(m.handle(5, Event::Stop), expected(Phase::Rejected));
}

#[test]
fn stopped_ignores_everything() {
    let mut m = Machine::new(T, 1);
    m.handle(0, Event::Stop);
    for event in [
        Event::Start { delay_ms: 0 },
        ok(Some(60)),
        Event::NoResponse,
        Event::SendFailed("x".to_owned()),
        notify("active;expires=60"),
        Event::DialogEnded,
        Event::Timer,
        Event::ResubscribeNow,
        Event::Stop,
    ] {
        assert_eq!(m.handle(10, event.clone()), [], "{event:?}");
    }
    assert_eq!(m.phase(), Phase::Stopped);
}

// ---- status and history ----

#[test]
fn history_keeps_the_last_changes() {
    let mut s = Sim::active(T, 60);
    let mut reports = vec![];
    for _ in 0..HISTORY_LEN {
        reports.push(report(&s.after(1, Event::ResubscribeNow)).clone());
        reports.push(report(&s.after(10, ok(Some(60)))).clone());
    }
    let history = s.status().history;
    assert_eq!(history.len(), HISTORY_LEN);
    assert_eq!(history, reports[reports.len() - HISTORY_LEN..]);
}

#[test]
fn routine_refreshes_are_reported_but_left_out_of_the_history() {
    let mut s = Sim::active(T, 60);
    let before = s.status().history;
    for _ in 0..3 {
        assert!(report(&s.fire()).is_routine_refresh());
        assert!(report(&s.after(10, ok(Some(60)))).is_routine_refresh());
    }
    assert_eq!(s.status().history, before, "three refreshes later the history is unchanged");
    s.fire();
    let failed = report(&s.after(10, code(503))).clone();
    assert!(!failed.is_routine_refresh());
    assert_eq!(s.status().history.last(), Some(&failed), "a failed refresh is history");
}

#[test]
fn status_counts_time_down() {
    let mut s = Sim::active(T, 60);
    assert_eq!(s.m.status(20_100).expires_in_ms, Some(40_000));
    assert_eq!(s.m.status(20_100).next_subscribe_in_ms, Some(30_000));
    assert_eq!(s.m.status(70_000).expires_in_ms, Some(0), "saturates");
    assert_eq!(s.m.status(70_000).next_subscribe_in_ms, Some(0));
    s.after(10, code(503));
    assert_eq!(s.phase(), Phase::Active, "nothing was outstanding");
    s.after(10, Event::DialogEnded);
    assert_eq!(s.status().expires_in_ms, None, "not established");
    assert_eq!(s.status().last_response.as_deref(), Some("200"));
}

#[test]
fn jitter_comes_from_the_seed_only() {
    fn gaps(seed: u64) -> Vec<u64> {
        let mut s = Sim { m: Machine::new(T, seed), now: 0, armed: None };
        s.at(0, Event::Start { delay_ms: 0 });
        (0..5)
            .map(|_| {
                s.after(10, code(503));
                let gap = s.gap();
                s.fire();
                gap
            })
            .collect()
    }
    assert_eq!(gaps(42), gaps(42));
    assert!((1..10).any(|seed| gaps(seed) != gaps(0)));
}

#[test]
fn huge_times_saturate() {
    let mut m = Machine::new(T, 1);
    assert_eq!(
        m.handle(u64::MAX - 5, Event::Start { delay_ms: u64::MAX }),
        [Action::ArmTimer(Some(u64::MAX))]
    );
    m.handle(u64::MAX, Event::Timer);
    let actions = m.handle(u64::MAX, ok(Some(u32::MAX)));
    assert_eq!(actions[0], Action::ArmTimer(Some(u64::MAX)));
    assert_eq!(m.status(u64::MAX).expires_in_ms, Some(0));
    m.handle(u64::MAX, code(503));
    let mut m = Machine::new(Timing { retry_interval: u32::MAX, max_retries: u32::MAX, ..T }, 1);
    m.handle(0, Event::Start { delay_ms: 0 });
    for _ in 0..70 {
        m.handle(0, retry_after(503, u32::MAX));
        m.handle(u64::MAX, Event::Timer);
    }
    assert_eq!(m.phase(), Phase::Subscribing);
}

#[test]
fn a_zero_retry_interval_still_waits() {
    let mut s = Sim::new(Timing { retry_interval: 0, ..T });
    s.at(0, Event::Start { delay_ms: 0 });
    s.after(10, code(503));
    assert!(s.gap() >= 1000, "{}", s.gap());
}

// ---- invariants over random sequences ----

/// A deterministic generator for the random run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn maybe(&mut self, n: u32) -> Option<u32> {
        (self.below(3) > 0).then(|| self.below(u64::from(n) + 1) as u32)
    }
}

fn random_event(r: &mut Random) -> Event {
    const CODES: [u16; 20] =
        [0, 100, 180, 200, 202, 300, 401, 403, 404, 407, 408, 423, 481, 489, 500, 503, 600, 603, 699, 999];
    const STATES: [&str; 12] = [
        "active",
        "pending",
        "terminated",
        "terminated;reason=deactivated",
        "terminated;reason=timeout",
        "terminated;reason=probation",
        "terminated;reason=giveup",
        "terminated;reason=rejected",
        "terminated;reason=noresource",
        "terminated;reason=invariant",
        "terminated;reason=other",
        "active;expires=0",
    ];
    match r.below(100) {
        0..=24 => Event::Timer,
        25..=29 => Event::Start { delay_ms: r.below(5000) },
        30..=54 => Event::Response {
            code: CODES[r.below(CODES.len() as u64) as usize],
            expires: r.maybe(120),
            min_expires: r.maybe(8000),
            retry_after: r.maybe(100),
        },
        55..=61 => Event::NoResponse,
        62..=64 => Event::SendFailed("no transport".to_owned()),
        65..=84 => {
            let mut state = SubscriptionState::parse(STATES[r.below(STATES.len() as u64) as usize]).unwrap();
            if state.expires.is_none() {
                state.expires = r.maybe(120);
            }
            state.retry_after = r.maybe(60);
            Event::Notify(state)
        }
        85..=93 => Event::DialogEnded,
        94..=98 => Event::ResubscribeNow,
        _ => Event::Stop,
    }
}

/// Checks one call's actions against the contract.
fn check_call(
    before: Phase,
    armed_before: Option<Millis>,
    event: &Event,
    now: Millis,
    actions: &[Action],
    m: &Machine,
    timing: &Timing,
) {
    let after = m.phase();
    let arm = armed(actions);
    let reports: Vec<&Change> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Report(c) => Some(c),
            _ => None,
        })
        .collect();
    let sips: Vec<&Action> = actions.iter().filter(|a| is_sip(a)).collect();
    let context = format!("{before:?} --{event:?}@{now}--> {after:?}: {actions:?}");
    assert!(reports.len() <= 1 && sips.len() <= 1, "{context}");
    if before != after {
        assert_eq!(reports.len(), 1, "{context}");
        assert!(arm.is_some(), "{context}");
    }
    if let Some(c) = reports.first() {
        assert_eq!((c.at, c.from, c.to), (now, before, after), "{context}");
        assert!(!c.reason.is_empty(), "{context}");
    }
    if let Some(Some(t)) = arm {
        // In the past only when it is the overdue timer, re-stated on a phase change.
        assert!(t >= now || armed_before == Some(t), "{context}");
    }
    match sips.first() {
        Some(Action::Subscribe { expires }) => {
            assert_eq!(after, Phase::Subscribing, "{context}");
            assert!(*expires >= timing.expiration, "{context}");
        }
        Some(Action::Refresh { .. }) => assert_eq!(after, Phase::Refreshing, "{context}"),
        Some(Action::Unsubscribe) => assert_eq!(after, Phase::Unsubscribing, "{context}"),
        Some(Action::DropDialog) => assert_eq!(after, Phase::Stopped, "{context}"),
        _ => {}
    }
    if matches!(before, Phase::GivenUp | Phase::Rejected | Phase::Stopped) && *event != Event::ResubscribeNow
    {
        assert!(
            !sips.iter().any(|a| matches!(
                a,
                Action::Subscribe { .. } | Action::Refresh { .. } | Action::Unsubscribe
            )),
            "{context}"
        );
    }
    if before == Phase::Stopped {
        assert!(actions.is_empty(), "{context}");
    }
}

#[test]
fn random_event_sequences_keep_the_invariants() {
    let mut r = Random(0x5eed_1234_abcd_0001);
    let mut seen = std::collections::BTreeSet::new();
    let mut calls = 0u64;
    for round in 0..3000 {
        let timing = Timing {
            expiration: 1 + r.below(7200) as u32,
            retry_interval: r.below(6) as u32,
            forbidden_retry_interval: if r.below(2) == 0 { 0 } else { 1 + r.below(30) as u32 },
            fatal_retry_interval: if r.below(2) == 0 { 0 } else { 1 + r.below(30) as u32 },
            max_retries: r.below(6) as u32,
        };
        let mut m = Machine::new(timing, round);
        let mut now: Millis = r.below(1_000_000);
        let mut armed_at: Option<Millis> = None;
        for _ in 0..1000 {
            now += match r.below(4) {
                0 => 0,
                1 => r.below(1000),
                2 => r.below(100_000),
                _ => r.below(10_000_000),
            };
            let event = random_event(&mut r);
            if event == Event::Timer {
                if let Some(t) = armed_at.filter(|_| r.below(4) > 0) {
                    now = now.max(t); // the armed timer's firing, mostly on time
                }
                if armed_at.is_some_and(|t| now >= t) {
                    armed_at = None;
                }
            }
            let before = m.phase();
            let actions = m.handle(now, event.clone());
            calls += 1;
            check_call(before, armed_at, &event, now, &actions, &m, &timing);
            if let Some(t) = armed(&actions) {
                armed_at = t;
            }
            let phase = m.phase();
            seen.insert(phase.name());
            let status = m.status(now);
            assert_eq!(status.phase, phase);
            assert!(status.failures <= timing.max_retries + 1, "{status:?}");
            assert!(status.history.len() <= HISTORY_LEN);
            match status.next_subscribe_in_ms {
                Some(0) => assert!(armed_at.is_some_and(|t| t <= now), "overdue: {status:?}"),
                Some(d) => assert_eq!(armed_at, Some(now + d), "{status:?}"),
                None => {}
            }
            match phase {
                Phase::Retrying | Phase::Unsubscribing => assert!(armed_at.is_some(), "{phase:?}"),
                Phase::GivenUp | Phase::Rejected | Phase::Stopped => {
                    assert_eq!(armed_at, None, "{phase:?}");
                    assert_eq!(status.next_subscribe_in_ms, None);
                }
                _ => {}
            }
            if phase == Phase::Stopped && r.below(10) == 0 {
                break;
            }
        }
    }
    assert_eq!(seen.len(), 10, "every phase visited: {seen:?}");
    assert!(calls > 100_000, "{calls}");
}
