//! One running outbound subscription: its state machine (domain), its current pjsip dialog
//! (host), and the glue between them. Everything that changes it runs on its serializer, one
//! task at a time: a pjsip callback on that serializer is handled at once (its pjsip work
//! still goes to a task), one elsewhere is queued in `inbox` for a task (see `arrived`).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::timers::{Clock, Timers};
use crate::domain::incoming::summary_counts::counts_for;
use crate::domain::message_summary::{ClassCounts, MessageClass, MessageSummary};
use crate::domain::store::{MailboxKey, Source};
use crate::domain::subscription::machine::{Action, Change, Event, Machine, Phase, Status};
use crate::domain::subscription::settings::SubscriptionSettings;
use crate::domain::subscription::subscription_state::SubscriptionState;
use crate::domain::subscription::target::{uri_transport, uri_user};
use crate::domain::subscription::Millis;
use crate::domain::sync::lock;
use crate::host::log::{ast_debug, ast_notice, ast_verb, ast_warning};
use crate::host::manager;
use crate::host::pjsip_client::{ClientDialog, ClientEvent, ClientModule, DialogSpec, EventSink, Serializer};
use crate::mailboxes::service;

struct Inner {
    machine: Machine,
    dialog: Option<ClientDialog>,
    /// Id of `dialog`; events tagged with another id are from an older dialog.
    dialog_id: u64,
    /// The Voice-Message counts of the last NOTIFY, as the server sent them.
    counts: Option<ClassCounts>,
    last_notify: Option<Millis>,
}

pub struct Subscription {
    pub settings: SubscriptionSettings,
    spec: DialogSpec,
    serializer: Arc<Serializer>,
    module: Arc<ClientModule>,
    timers: Timers,
    clock: Clock,
    inner: Mutex<Inner>,
    inbox: Mutex<Vec<(u64, ClientEvent)>>,
    scheduled: AtomicBool,
    next_dialog: AtomicU64,
    /// The generation of the armed timer: bumped (under `inner`) by every ArmTimer and at
    /// close; a wake-up of another generation is stale. Atomic so the timer thread reads it
    /// without the lock.
    armed: AtomicU64,
    this: Weak<Subscription>,
}

/// Delivers a dialog's events into its subscription's inbox.
struct Sink(Weak<Subscription>);

impl EventSink for Sink {
    fn event(&self, dialog: u64, event: ClientEvent) {
        if let Some(sub) = self.0.upgrade() {
            sub.arrived(dialog, event);
        }
    }
}

/// pjsip work an action needs, carried out by `Subscription::run` in a serializer task.
enum SipWork {
    /// A new dialog `id` (`old` is dropped first).
    Subscribe { id: u64, expires: u32, old: Option<ClientDialog> },
    /// A SUBSCRIBE in dialog `id`, if it is still the current one.
    InDialog { id: u64, expires: u32 },
    /// End a dialog silently.
    Drop(ClientDialog),
}

fn spec_for(settings: &SubscriptionSettings) -> DialogSpec {
    let (kind, ipv6) = uri_transport(&settings.server_uri);
    DialogSpec {
        server_uri: settings.server_uri.clone(),
        from_uri: settings.client_uri.clone(),
        user: settings
            .client_uri
            .as_deref()
            .and_then(uri_user)
            .or_else(|| uri_user(&settings.server_uri))
            .unwrap_or("asterisk")
            .to_owned(),
        contact_user: settings.contact_user.clone(),
        transport: settings.transport.clone(),
        kind,
        ipv6,
        outbound_proxy: settings.outbound_proxy.clone(),
        auth: settings.outbound_auth.clone(),
    }
}

impl Subscription {
    pub fn new(
        settings: SubscriptionSettings,
        serializer: Arc<Serializer>,
        module: Arc<ClientModule>,
        timers: Timers,
        clock: Clock,
        seed: u64,
    ) -> Arc<Self> {
        let machine = Machine::new(settings.timing(), seed);
        let spec = spec_for(&settings);
        Arc::new_cyclic(|this| Self {
            settings,
            spec,
            serializer,
            module,
            timers,
            clock,
            inner: Mutex::new(Inner { machine, dialog: None, dialog_id: 0, counts: None, last_notify: None }),
            inbox: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            next_dialog: AtomicU64::new(1),
            armed: AtomicU64::new(0),
            this: this.clone(),
        })
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Runs `event` through the machine on the serializer.
    pub fn post(&self, event: Event) {
        let Some(this) = self.this.upgrade() else { return };
        self.serializer.push(move || {
            this.drain_inbox();
            let work = this.feed(event);
            this.run(work);
            this.drain_inbox();
        });
    }

    /// The generation of the timer armed now (the timer thread skips older entries).
    pub fn armed_generation(&self) -> u64 {
        self.armed.load(Ordering::SeqCst)
    }

    /// A wake-up from the timer thread.
    pub fn wake(&self, generation: u64) {
        let Some(this) = self.this.upgrade() else { return };
        self.serializer.push(move || {
            if this.armed_generation() == generation {
                let work = this.feed(Event::Timer);
                this.run(work);
                this.drain_inbox();
            }
        });
    }

    /// A dialog event arrived (in a pjsip callback, under the dialog's lock). On our own
    /// serializer it is handled at once, except the pjsip work it leads to, which needs a task
    /// (it must not run inside the callback); elsewhere (pjsip's timer thread) it is queued.
    /// Handling it at once is safe there: no task of this serializer runs meanwhile, and tasks
    /// never hold `inner` across a pjsip call (see `run`).
    fn arrived(&self, dialog: u64, event: ClientEvent) {
        if self.serializer.is_current() {
            let work = self.client_event(dialog, event);
            if !work.is_empty() {
                let Some(this) = self.this.upgrade() else { return };
                self.serializer.push(move || {
                    this.run(work);
                    this.drain_inbox();
                });
            }
            return;
        }
        lock(&self.inbox).push((dialog, event));
        self.schedule();
    }

    fn schedule(&self) {
        if self.scheduled.swap(true, Ordering::SeqCst) {
            return;
        }
        let Some(this) = self.this.upgrade() else { return };
        if !self.serializer.push(move || {
            this.scheduled.store(false, Ordering::SeqCst);
            this.drain_inbox();
        }) {
            self.scheduled.store(false, Ordering::SeqCst);
        }
    }

    /// On the serializer, outside any pjsip callback.
    fn drain_inbox(&self) {
        loop {
            let events = std::mem::take(&mut *lock(&self.inbox));
            if events.is_empty() {
                return;
            }
            for (dialog, event) in events {
                let work = self.client_event(dialog, event);
                self.run(work);
            }
        }
    }

    fn client_event(&self, dialog: u64, event: ClientEvent) -> Vec<SipWork> {
        if lock(&self.inner).dialog_id != dialog {
            return Vec::new();
        }
        let mut work = Vec::new();
        let machine_event = match event {
            ClientEvent::Response { code, expires, min_expires, retry_after } => {
                Event::Response { code, expires, min_expires, retry_after }
            }
            ClientEvent::NoResponse => Event::NoResponse,
            ClientEvent::TransportError(why) => Event::SendFailed(why),
            ClientEvent::Notify { subscription_state, summary } => {
                if let Some(body) = summary {
                    self.take_counts(&body);
                }
                match subscription_state.as_deref().map(SubscriptionState::parse) {
                    Some(Ok(state)) => Event::Notify(state),
                    Some(Err(e)) => {
                        ast_warning!(
                            "MWI subscription '{}': NOTIFY with an unreadable Subscription-State ({}); ignored",
                            self.name(),
                            e.0
                        );
                        return work;
                    }
                    None => return work,
                }
            }
            ClientEvent::Ended => {
                // pjsip is done with it: let go of it (outside the callback that said so).
                if let Some(old) = lock(&self.inner).dialog.take() {
                    work.push(SipWork::Drop(old));
                }
                Event::DialogEnded
            }
        };
        work.extend(self.feed(machine_event));
        work
    }
    fn take_counts(&self, body: &[u8]) {
        let summary = match MessageSummary::parse(body) {
            Ok(s) => s,
            Err(e) => {
                ast_warning!(
                    "MWI subscription '{}': NOTIFY body is not a valid message summary ({e}); nothing published",
                    self.name()
                );
                return;
            }
        };
        let now = self.clock.now();
        let Some(store) = service::current() else { return };
        let key = MailboxKey::from(&self.settings.mailbox);
        let source = Source::Subscription { name: self.settings.name.clone() };
        let result = store.update_with(&key, source, |current| Some(counts_for(&summary, current)));
        match result {
            Ok(_) => {
                let mut inner = lock(&self.inner);
                inner.counts = summary.counts(MessageClass::Voice);
                inner.last_notify = Some(now);
            }
            // The service logged the failure (once per episode).
            Err(e) => ast_debug!(1, "MWI subscription '{}': counts not stored: {e}", self.name()),
        }
    }

    /// One event through the machine; carries out its actions but the pjsip work, which it
    /// returns for `run`. On the serializer only (a task, or a callback running on it).
    fn feed(&self, event: Event) -> Vec<SipWork> {
        let now = self.clock.now();
        let mut inner = lock(&self.inner);
        let actions = inner.machine.handle(now, event);
        let mut work = Vec::new();
        for action in actions {
            match action {
                Action::Subscribe { expires } => {
                    let id = self.next_dialog.fetch_add(1, Ordering::SeqCst);
                    inner.dialog_id = id;
                    work.push(SipWork::Subscribe { id, expires, old: inner.dialog.take() });
                }
                Action::Refresh { expires } => work.push(SipWork::InDialog { id: inner.dialog_id, expires }),
                Action::Unsubscribe => work.push(SipWork::InDialog { id: inner.dialog_id, expires: 0 }),
                Action::DropDialog => {
                    inner.dialog_id = 0;
                    if let Some(old) = inner.dialog.take() {
                        work.push(SipWork::Drop(old));
                    }
                }
                Action::ArmTimer(at) => {
                    let generation = self.armed.fetch_add(1, Ordering::SeqCst) + 1;
                    if let (Some(at), Some(this)) = (at, self.this.upgrade()) {
                        self.timers.arm(at.max(now), inner.machine.wake_slack(), generation, &this);
                    }
                }
                Action::Report(change) => self.report(&change),
            }
        }
        work
    }

    /// Carries out pjsip work in a serializer task. `inner` is never held across a pjsip call:
    /// pjsip may call back synchronously on this thread, and that callback takes `inner`.
    fn run(&self, work: Vec<SipWork>) {
        for item in work {
            let failed = match item {
                SipWork::Drop(dialog) => {
                    drop(dialog);
                    None
                }
                SipWork::Subscribe { id, expires, old } => {
                    drop(old);
                    let sink = Arc::new(Sink(self.this.clone()));
                    match ClientDialog::create(&self.module, &self.spec, &self.serializer, sink, id) {
                        Ok(dialog) => {
                            let sent = dialog.subscribe(expires);
                            self.put_back(id, dialog);
                            sent.err().map(|why| (id, why))
                        }
                        Err(why) => Some((id, why)),
                    }
                }
                SipWork::InDialog { id, expires } => {
                    let taken = {
                        let mut inner = lock(&self.inner);
                        if inner.dialog_id == id {
                            inner.dialog.take()
                        } else {
                            None
                        }
                    };
                    match taken {
                        Some(dialog) => {
                            let sent = dialog.subscribe(expires);
                            self.put_back(id, dialog);
                            sent.err().map(|why| (id, why))
                        }
                        None => Some((id, "no dialog".to_owned())),
                    }
                }
            };
            if let Some((id, why)) = failed {
                // Only if nothing newer was decided meanwhile.
                if lock(&self.inner).dialog_id == id {
                    let more = self.feed(Event::SendFailed(why));
                    self.run(more);
                }
            }
        }
    }

    /// Keeps `dialog` as the current one if the machine still wants dialog `id`.
    fn put_back(&self, id: u64, dialog: ClientDialog) {
        let mut inner = lock(&self.inner);
        if inner.dialog_id == id && inner.dialog.is_none() {
            inner.dialog = Some(dialog);
        } else {
            drop(inner);
            drop(dialog);
        }
    }

    fn report(&self, change: &Change) {
        let name = self.name();
        if change.is_routine_refresh() {
            // Every few minutes per subscription: bookkeeping, not news (no AMI event, as a
            // registration's refresh raises none); `mwi show subscriptions` shows the expiry.
            ast_debug!(
                2,
                "MWI subscription '{name}': {} -> {}: {}",
                change.from.name(),
                change.to.name(),
                change.reason
            );
            return;
        }
        match change.to {
            Phase::GivenUp | Phase::Rejected => ast_warning!(
                "MWI subscription '{name}' to {}: {} -> {}: {}",
                self.settings.server_uri,
                change.from.name(),
                change.to.name(),
                change.reason
            ),
            Phase::Retrying => ast_notice!(
                "MWI subscription '{name}': {} -> {}: {}",
                change.from.name(),
                change.to.name(),
                change.reason
            ),
            _ => ast_verb!(
                3,
                "MWI subscription '{name}': {} -> {}: {}",
                change.from.name(),
                change.to.name(),
                change.reason
            ),
        }
        manager::raise_event(
            crate::host::manager::EVENT_FLAG_SYSTEM,
            c"MWISubscriptionStatus",
            &crate::domain::subscription::report::ami_status_event(
                name,
                &self.settings.server_uri,
                self.settings.mailbox.as_str(),
                change,
            ),
        );
    }

    pub fn phase(&self) -> Phase {
        lock(&self.inner).machine.phase()
    }

    pub fn status(&self) -> (Status, Option<ClassCounts>, Option<u64>) {
        let now = self.clock.now();
        let inner = lock(&self.inner);
        (inner.machine.status(now), inner.counts, inner.last_notify.map(|t| now.saturating_sub(t)))
    }

    /// Ends the dialog without a word (teardown, after the unsubscribe had its chance).
    pub fn force_close(&self) {
        let Some(this) = self.this.upgrade() else { return };
        self.serializer.push(move || {
            let old = {
                let mut inner = lock(&this.inner);
                inner.dialog_id = 0;
                this.armed.fetch_add(1, Ordering::SeqCst);
                inner.dialog.take()
            };
            drop(old);
        });
    }
}
