//! Outbound MWI subscriptions (what chan_sip's `mwi =>` did): `type = mwi-subscription`
//! objects in pjsip.conf, each a SUBSCRIBE to a remote mailbox whose NOTIFYs feed a local
//! mailbox in the store.
//!
//! - [`OutboundMwi`] owns it all; dropping it unsubscribes (bounded wait) and tears down.
//! - `subscription`: one subscription at run time (machine + dialog).
//! - `timers`: the timer thread; `cli`, `ami`: what admins see.
//!
//! Configuration follows pjsip.conf: objects are checked as sorcery reads them (bad ones are
//! refused with an error naming object and option, the others run), and after every load a
//! reload plan starts new objects, stops removed ones, restarts changed ones and leaves the
//! unchanged ones alone (they send nothing).

pub mod ami;
pub mod cli;
mod subscription;
mod timers;

use std::collections::BTreeMap;
use std::ffi::CStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use subscription::Subscription;
use timers::{Clock, TimerThread, Timers};

use crate::domain::subscription::machine::{Event, Phase};
use crate::domain::subscription::reload;
use crate::domain::subscription::settings::SubscriptionSettings;
use crate::domain::sync::lock;
use crate::host::log::{ast_error, ast_verb};
use crate::host::module::LoadedSlot;
use crate::host::pjsip_client::{ClientModule, Serializer};
use crate::host::sorcery::{self, ObjectType, SorceryType};

/// Serializers shared by all subscriptions (a subscription always uses the same one).
const SERIALIZERS: usize = 4;
/// How long unload waits for the answers to its unsubscribes.
const UNSUBSCRIBE_WAIT: Duration = Duration::from_secs(3);

/// The running subscriptions and what they share.
pub struct Runtime {
    running: Mutex<BTreeMap<String, Arc<Subscription>>>,
    /// Removed or changed ones still unsubscribing.
    stopping: Mutex<Vec<Arc<Subscription>>>,
    serializers: Vec<Arc<Serializer>>,
    module: Arc<ClientModule>,
    timers: Timers,
    clock: Clock,
    seed: Mutex<u64>,
}

static CURRENT: LoadedSlot<Runtime> = LoadedSlot::new();

/// The running subscriptions, for the CLI and AMI.
pub fn current() -> Option<Arc<Runtime>> {
    CURRENT.get()
}

/// The pjsip.conf object type.
pub struct SubscriptionObjects;

/// Settings with what `endpoint = ` lends filled in, checked against res_pjsip's objects.
fn settings_of(id: &str, options: &[(String, String)]) -> Result<SubscriptionSettings, String> {
    let mut settings = SubscriptionSettings::from_options(id, options).map_err(|e| e.to_string())?;
    let refuse =
        |option: &str, message: String| format!("mwi-subscription '{id}': option '{option}': {message}");
    if let Some(endpoint) = settings.endpoint.clone() {
        let Some(lent) = sorcery::options_of("endpoint", &endpoint) else {
            return Err(refuse("endpoint", format!("no endpoint '{endpoint}' in pjsip.conf")));
        };
        let get = |name: &str| {
            lent.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
        };
        if settings.transport.is_none() {
            settings.transport = get("transport");
        }
        if settings.outbound_proxy.is_none() {
            settings.outbound_proxy = get("outbound_proxy");
        }
        if settings.outbound_auth.is_empty() {
            if let Some(auth) = get("outbound_auth") {
                settings.outbound_auth =
                    auth.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect();
            }
        }
        if settings.contact_user.is_none() {
            settings.contact_user = get("contact_user");
        }
    }
    for auth in &settings.outbound_auth {
        if !sorcery::exists("auth", auth) {
            return Err(refuse("outbound_auth", format!("no auth '{auth}' in pjsip.conf")));
        }
    }
    if let Some(transport) = &settings.transport {
        if !sorcery::exists("transport", transport) {
            return Err(refuse("transport", format!("no transport '{transport}' in pjsip.conf")));
        }
    }
    Ok(settings)
}

impl ObjectType for SubscriptionObjects {
    const TYPE: &'static CStr = c"mwi-subscription";
    const OPTIONS: &'static [&'static CStr] = &crate::domain::subscription::settings::OPTIONS;

    fn check(id: &str, options: &[(String, String)]) -> Result<(), String> {
        settings_of(id, options).map(|_| ())
    }

    fn loaded() {
        // Sorcery calls this after every load, later, on the type's own serializer: at `pjsip
        // reload` it is what applies the change. Our own load and `module reload` apply
        // synchronously as well (so the command returns with it done); this then finds the
        // running set already as pjsip.conf says, and changes nothing.
        if let (Some(rt), Some(objects)) = (current(), OBJECTS.get()) {
            rt.apply(objects.objects());
        }
    }
}

/// The registered type, for `loaded` to read the objects through.
static OBJECTS: LoadedSlot<SorceryType<SubscriptionObjects>> = LoadedSlot::new();

impl Runtime {
    fn seed(&self) -> u64 {
        let mut seed = lock(&self.seed);
        *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *seed
    }

    fn start(&self, settings: SubscriptionSettings) -> Arc<Subscription> {
        let index = settings.name.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        let serializer = self.serializers[index % self.serializers.len()].clone();
        let delay_ms = if settings.max_random_initial_delay == 0 {
            0
        } else {
            self.seed() % (u64::from(settings.max_random_initial_delay) * 1000 + 1)
        };
        let sub = Subscription::new(
            settings,
            serializer,
            self.module.clone(),
            self.timers.clone(),
            self.clock,
            self.seed(),
        );
        if crate::host::log::fully_booted() {
            sub.post(Event::Start { delay_ms });
        } else {
            self.timers.start_after_boot(&sub, delay_ms);
        }
        sub
    }

    /// Makes the running set what pjsip.conf now says.
    fn apply(&self, objects: Vec<(String, Vec<(String, String)>)>) {
        let mut loaded = BTreeMap::new();
        for (id, options) in objects {
            // Checked already when sorcery built it; an auth or transport may have gone since.
            match settings_of(&id, &options) {
                Ok(settings) => {
                    loaded.insert(id, settings);
                }
                Err(e) => ast_error!("{e}; the object is ignored"),
            }
        }
        let mut running = lock(&self.running);
        let current: BTreeMap<String, SubscriptionSettings> =
            running.iter().map(|(k, v)| (k.clone(), v.settings.clone())).collect();
        let plan = reload::plan(&current, &loaded);
        let mut stopping = lock(&self.stopping);
        stopping.retain(|s| s.phase() != Phase::Stopped);
        for name in plan.removed.iter().chain(plan.changed.iter()) {
            if let Some(old) = running.remove(name) {
                old.post(Event::Stop);
                stopping.push(old);
            }
        }
        for name in plan.added.iter().chain(plan.changed.iter()) {
            if let Some(settings) = loaded.remove(name) {
                running.insert(name.clone(), self.start(settings));
            }
        }
        if !(plan.added.is_empty() && plan.removed.is_empty() && plan.changed.is_empty()) {
            ast_verb!(
                2,
                "MWI subscriptions: {} added, {} removed, {} changed, {} unchanged",
                plan.added.len(),
                plan.removed.len(),
                plan.changed.len(),
                plan.unchanged.len()
            );
        }
    }

    /// How many subscriptions are in each phase, every phase listed.
    pub fn phase_counts(&self) -> Vec<(&'static str, usize)> {
        // Each phase is read after `running` is let go: no lock is taken inside another.
        let phases: Vec<Phase> = self.subscriptions().iter().map(|s| s.phase()).collect();
        Phase::ALL.iter().map(|p| (p.name(), phases.iter().filter(|q| *q == p).count())).collect()
    }

    /// The running subscriptions, by name.
    pub fn subscriptions(&self) -> Vec<Arc<Subscription>> {
        lock(&self.running).values().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Subscription>> {
        lock(&self.running).get(name).cloned()
    }

    pub fn resubscribe(&self, name: &str) -> bool {
        match self.get(name) {
            Some(sub) => {
                sub.post(Event::ResubscribeNow);
                true
            }
            None => false,
        }
    }

    /// Unsubscribes everything, waiting up to `wait` for the answers. Returns every
    /// subscription there was, for `close_all`.
    fn unsubscribe_all(&self, wait: Duration) -> Vec<Arc<Subscription>> {
        let all: Vec<Arc<Subscription>> = {
            let mut running = lock(&self.running);
            let mut all: Vec<_> = std::mem::take(&mut *running).into_values().collect();
            all.append(&mut lock(&self.stopping));
            all
        };
        for sub in &all {
            sub.post(Event::Stop);
        }
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline && all.iter().any(|s| s.phase() != Phase::Stopped) {
            std::thread::sleep(Duration::from_millis(5));
        }
        all
    }

    /// Ends every dialog and returns once every serializer has run its last task of ours.
    /// The timer thread must be gone by then: a wake-up after the barrier would queue a task
    /// that runs after the module is unmapped.
    fn close_all(&self, all: &[Arc<Subscription>]) {
        for sub in all {
            sub.force_close();
        }
        for serializer in &self.serializers {
            serializer.barrier();
        }
    }
}

/// Everything of the outbound subscriptions; fields drop in declaration order.
pub struct OutboundMwi {
    /// Removes the type (no more `loaded` calls) first.
    objects: Option<Arc<SorceryType<SubscriptionObjects>>>,
    _objects_slot: Option<crate::host::module::Installed<SorceryType<SubscriptionObjects>>>,
    runtime: Arc<Runtime>,
    _runtime_slot: Option<crate::host::module::Installed<Runtime>>,
    timer_thread: Option<TimerThread>,
}

impl OutboundMwi {
    pub fn start() -> Result<Self, String> {
        let module = Arc::new(ClientModule::register()?);
        let clock = Clock::new();
        let timer_thread = TimerThread::start(clock)?;
        let serializers = (0..SERIALIZERS)
            .map(|i| Serializer::create(&format!("res_mwi_hub/outbound-{i}")).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        // Jitter and initial delays differ between loads and between servers.
        let now_ns =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let seed = now_ns as u64 ^ (std::process::id() as u64) << 32;
        let runtime = Arc::new(Runtime {
            running: Mutex::new(BTreeMap::new()),
            stopping: Mutex::new(Vec::new()),
            serializers,
            module,
            timers: timer_thread.timers(),
            clock,
            seed: Mutex::new(seed | 1),
        });
        let mut this = Self {
            objects: None,
            _objects_slot: None,
            runtime: runtime.clone(),
            _runtime_slot: None,
            timer_thread: Some(timer_thread),
        };
        let objects = Arc::new(SorceryType::<SubscriptionObjects>::register(c"res_mwi_hub")?);
        this._objects_slot = Some(OBJECTS.install(objects.clone()));
        this.objects = Some(objects.clone());
        this._runtime_slot = Some(CURRENT.install(runtime.clone()));
        runtime.apply(objects.objects());
        Ok(this)
    }

    /// `module reload res_mwi_hub.so`: re-reads pjsip.conf's subscriptions.
    pub fn reload(&self) {
        if let Some(objects) = &self.objects {
            objects.reload();
            self.runtime.apply(objects.objects());
        }
    }
}

impl Drop for OutboundMwi {
    fn drop(&mut self) {
        self._objects_slot.take();
        self.objects.take();
        self._runtime_slot.take();
        let all = self.runtime.unsubscribe_all(UNSUBSCRIBE_WAIT);
        // Joined before the last barrier (see close_all).
        self.timer_thread.take();
        self.runtime.close_all(&all);
    }
}

/// What admins see of one subscription.
fn view(sub: &Subscription) -> crate::domain::subscription::report::SubscriptionView {
    let (status, counts, last_notify_ago_ms) = sub.status();
    crate::domain::subscription::report::SubscriptionView {
        name: sub.name().to_owned(),
        server_uri: sub.settings.server_uri.clone(),
        mailbox: sub.settings.mailbox.as_str().to_owned(),
        status,
        counts,
        last_notify_ago_ms,
    }
}
