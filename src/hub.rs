//! The module itself: what `load_module` builds and `unload_module` tears down.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::domain::config::{HubConfig, ProviderMode};
use crate::domain::store::MailboxStore;
use crate::domain::sync::lock;
use crate::host::ari::{AriRegistration, AriUnavailable};
use crate::host::astdb;
use crate::host::cli::CliRegistration;
use crate::host::config::{self, ConfigLoad};
use crate::host::log::{self, ast_error, ast_notice, ast_verb, ast_warning};
use crate::host::manager::AmiRegistration;
use crate::host::module::{
    asterisk_module, AsteriskModule, Installed, LoadError, ModuleRef, SupportLevel, PRIORITY_CHANNEL_DEPEND,
};
use crate::host::mwi::{MwiObserverRegistration, MwiSubscription};
use crate::host::thread::OwnThread;
use crate::host::voicemail::{self, ProviderError, VoicemailProvider};
use crate::incoming::IncomingMwi;
use crate::mailboxes::republish::{self, Republisher, SubscribeObserver};
use crate::mailboxes::{ami, migrate, provider::StoreCounts, service, service::MailboxService};
use crate::outbound::{self, OutboundMwi};
use crate::{admin, mailboxes};

const CONFIG_FILE: &std::ffi::CStr = c"res_mwi_hub.conf";
const STORE_FILE: &str = "res_mwi_hub.sqlite3";

/// Everything the loaded module holds. Its fields drop in declaration order, and that order is
/// the teardown (there is no other): unload only gives up the CLI first, which can be refused,
/// then drops the rest; a load that fails half-way drops what it built the same way.
pub struct Hub {
    /// Always Some while loaded; taken out only to be unregistered.
    cli: Option<CliRegistration>,
    /// Unsubscribes (bounded wait) and ends every dialog before anything it writes to goes.
    outbound: Option<OutboundMwi>,
    /// NOTIFYs go back to res_pjsip_pubsub first.
    _incoming: Option<IncomingMwi>,
    /// ARI /mailboxes and the voicemail-provider role, taken once Asterisk is fully booted.
    after_boot: AfterBoot,
    _ami: Vec<AmiRegistration>,
    _observer: MwiObserverRegistration,
    /// Joins our thread.
    _republisher: Republisher,
    /// Returns only after the last callback has finished.
    _watcher: Option<MwiSubscription>,
    /// Forgets the service for handlers once none of them can be called any more.
    _current: Installed<MailboxService>,
    /// The store closes (and the publishing thread drains the queue and is joined) when the
    /// last handler still inside our code lets go of it; the loader's unload waits for that
    /// before it unmaps the image.
    service: Arc<MailboxService>,
    config: HubConfig,
}

/// Reads res_mwi_hub.conf; a missing file means the defaults.
fn read_config() -> Result<HubConfig, String> {
    match config::load_category(CONFIG_FILE, c"general") {
        ConfigLoad::Missing => Ok(HubConfig::from_settings(&[]).0),
        ConfigLoad::Invalid => Err("res_mwi_hub.conf could not be parsed (see the messages above)".into()),
        ConfigLoad::Loaded(category) => {
            let (cfg, warnings) = HubConfig::from_settings(&category.settings);
            for w in warnings {
                ast_warning!("{w}");
            }
            Ok(cfg)
        }
    }
}

/// Takes, keeps or gives up the voicemail-provider role as `mode` asks. `told` remembers that
/// the admin was already told another module holds it, so it is said once, not at every reload.
fn apply_provider(
    current: Option<VoicemailProvider>,
    mode: ProviderMode,
    module: ModuleRef,
    told: &mut bool,
) -> Option<VoicemailProvider> {
    match (mode, current) {
        (ProviderMode::No, _) => None,
        (_, Some(held)) => Some(held),
        (ProviderMode::Auto, None) if voicemail::provider_registered() => {
            if std::mem::replace(told, true) {
                return None;
            }
            ast_notice!(
                "another module (app_voicemail) is Asterisk's voicemail provider: AMI MailboxCount and \
                 MailboxStatus, VM_INFO and the Waiting field of MessageWaiting events keep answering from it; \
                 res_mwi_hub's mailboxes are still published to phones (voicemail_provider = auto)"
            );
            None
        }
        (mode, None) => match VoicemailProvider::register::<StoreCounts>(module) {
            Ok(p) => {
                ast_verb!(2, "res_mwi_hub is Asterisk's voicemail provider");
                Some(p)
            }
            Err(ProviderError::Taken) => {
                if mode == ProviderMode::Yes {
                    ast_error!("voicemail_provider = yes, but another module already holds the role");
                }
                None
            }
            Err(ProviderError::Failed) => {
                ast_error!("could not register res_mwi_hub as the voicemail provider");
                None
            }
        },
    }
}

/// What starts only once every module of the boot has had its turn to load, since we load
/// before them and may not name them as loader dependencies (see `asterisk_module!` below):
/// - the voicemail-provider role: app_voicemail, which loads after us, declines to load when
///   the role is taken, and with `voicemail_provider = auto` it keeps it;
/// - ARI /mailboxes: res_ari loads after us, and only a running res_ari may be handed routes.
///
/// Loaded into a running Asterisk, both start within `load`. At boot a thread of ours waits
/// for FullyBooted. Its one step that takes the loader's lock (is res_ari running?) is marked
/// `in_loader_call`: unload, which holds that lock and would wait for the thread forever,
/// is refused meanwhile, and the thread does not start it once unload has decided.
struct AfterBoot {
    state: Arc<Mutex<BootState>>,
    /// Joined on drop (it ends at once once `stop` is set).
    thread: Option<OwnThread>,
}

#[derive(Default)]
struct BootState {
    /// Set by unload at its point of no return.
    stop: bool,
    in_loader_call: bool,
    /// The boot work was done (reloads then apply changes themselves).
    started: bool,
    provider_mode: ProviderMode,
    told_provider_taken: bool,
    ari: Option<AriRegistration>,
    provider: Option<VoicemailProvider>,
}

/// How often the boot thread looks whether Asterisk is fully booted.
const BOOT_POLL: Duration = Duration::from_millis(50);

impl AfterBoot {
    fn start(module: ModuleRef, provider_mode: ProviderMode) -> Result<Self, String> {
        let state = Arc::new(Mutex::new(BootState { provider_mode, ..BootState::default() }));
        if log::fully_booted() {
            // In a loader callback: the loader's lock is ours already.
            finish_boot(&state, module);
            return Ok(Self { state, thread: None });
        }
        let shared = state.clone();
        let thread = OwnThread::spawn("mwi_hub_boot", move || {
            loop {
                let mut s = lock(&shared);
                if s.stop {
                    return;
                }
                if log::fully_booted() {
                    s.in_loader_call = true;
                    break;
                }
                drop(s);
                std::thread::sleep(BOOT_POLL);
            }
            finish_boot(&shared, module);
        })
        .map_err(|e| format!("could not start the thread that waits for the boot: errno {e}"))?;
        Ok(Self { state, thread: Some(thread) })
    }

    /// A reload: the provider mode as configured now, and ARI /mailboxes if res_ari came since.
    fn reload(&self, module: ModuleRef, provider_mode: ProviderMode) {
        let mut s = lock(&self.state);
        s.provider_mode = provider_mode;
        if !s.started {
            return; // the boot thread applies it
        }
        s.take_provider(module);
        // Registered anew: res_ari may have come since, or been loaded again (a new res_ari
        // does not have our old routes). The new routes go in before the old come out.
        // In the loader's reload callback: its lock is ours already.
        let was_served = s.ari.is_some();
        let fresh = serve_ari(was_served);
        let old = std::mem::replace(&mut s.ari, fresh);
        drop(s);
        drop(old);
    }
}

/// The boot work: ARI /mailboxes (the loader call), then the provider role.
fn finish_boot(state: &Mutex<BootState>, module: ModuleRef) {
    let ari = serve_ari(false);
    let mut s = lock(state);
    s.in_loader_call = false;
    s.ari = ari;
    s.take_provider(module);
}

impl BootState {
    fn take_provider(&mut self, module: ModuleRef) {
        self.started = true;
        self.provider =
            apply_provider(self.provider.take(), self.provider_mode, module, &mut self.told_provider_taken);
    }
}

impl Drop for AfterBoot {
    fn drop(&mut self) {
        lock(&self.state).stop = true;
        drop(self.thread.take());
        let mut s = lock(&self.state);
        drop(s.ari.take());
        drop(s.provider.take());
    }
}

/// Registers ARI /mailboxes if res_ari runs (and res_ari_mailboxes does not); says so unless
/// it already did.
fn serve_ari(was_served: bool) -> Option<AriRegistration> {
    match AriRegistration::register::<mailboxes::ari::Mailboxes>() {
        Ok(a) => {
            if !was_served {
                ast_verb!(2, "res_mwi_hub serves ARI /mailboxes");
            }
            Some(a)
        }
        Err(AriUnavailable::NotLoaded) => None,
        Err(AriUnavailable::Taken) => {
            ast_notice!("res_ari_mailboxes serves ARI /mailboxes: res_mwi_hub does not");
            None
        }
        Err(AriUnavailable::Failed(e)) => {
            ast_error!("ARI /mailboxes not served: {e}");
            None
        }
    }
}

impl AsteriskModule for Hub {
    fn load(module: ModuleRef) -> Result<Self, LoadError> {
        let config = read_config().map_err(LoadError::Decline)?;
        let watcher = admin::watch::start()?;
        let path = astdb::data_dir().join(STORE_FILE);
        let started = Instant::now();
        let mut store =
            MailboxStore::open(&path, config.durability).map_err(|e| LoadError::Decline(e.to_string()))?;
        if config.import_res_mwi_external {
            if let Err(e) = migrate::import_res_mwi_external(&mut store, service::now_ms()) {
                ast_error!("importing res_mwi_external's mailboxes failed: {e}");
            }
        }
        let service = Arc::new(MailboxService::new(store).map_err(LoadError::Failure)?);
        let current = service::install(service.clone());
        let observer = MwiObserverRegistration::register::<SubscribeObserver>()
            .ok_or_else(|| LoadError::Failure("could not observe MWI subscriptions".into()))?;
        let watched = republish::publish_watched(&service);
        ast_verb!(
            2,
            "res_mwi_hub: {} external mailboxes loaded in {:?}; {watched} watched ones published, the rest in the background",
            service.len(),
            started.elapsed()
        );
        let republisher = Republisher::start(service.clone());

        let ami = [
            AmiRegistration::register::<ami::MwiGet>(module),
            AmiRegistration::register::<ami::MwiUpdate>(module),
            AmiRegistration::register::<ami::MwiDelete>(module),
            AmiRegistration::register::<outbound::ami::MwiShowSubscriptions>(module),
        ]
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(LoadError::Decline)?;
        let cli = CliRegistration::register(
            admin::commands().chain(mailboxes::cli::COMMANDS.iter()).chain(outbound::cli::COMMANDS.iter()),
            module,
        )
        .map_err(LoadError::Failure)?;
        // Subscriptions write into the store; their stored counts were published above.
        let outbound = match OutboundMwi::start() {
            Ok(o) => Some(o),
            Err(e) => {
                ast_error!("outbound MWI subscriptions are not available: {e}");
                None
            }
        };
        // Last: from here on NOTIFYs are ours (before, res_pjsip_pubsub answers them).
        let incoming = match IncomingMwi::start(config.mailbox_limit) {
            Ok(i) => Some(i),
            Err(e) => {
                ast_error!("incoming MWI NOTIFYs stay with res_pjsip_pubsub: {e}");
                None
            }
        };
        let after_boot = AfterBoot::start(module, config.voicemail_provider).map_err(LoadError::Failure)?;
        ast_verb!(2, "res_mwi_hub {} loaded", env!("CARGO_PKG_VERSION"));
        Ok(Self {
            cli: Some(cli),
            outbound,
            _incoming: incoming,
            after_boot,
            _ami: ami,
            _observer: observer,
            _republisher: republisher,
            _watcher: watcher,
            _current: current,
            service,
            config,
        })
    }

    fn reload(&mut self, module: ModuleRef) -> Result<(), String> {
        let config = read_config()?;
        if config.durability != self.config.durability {
            self.service.with_store(|s| s.set_durability(config.durability)).map_err(|e| e.to_string())?;
        }
        self.after_boot.reload(module, config.voicemail_provider);
        crate::incoming::set_limit(config.mailbox_limit);
        self.config = config;
        if let Some(outbound) = &self.outbound {
            outbound.reload();
        }
        ast_verb!(2, "res_mwi_hub reloaded");
        Ok(())
    }

    fn unload(mut self, module: ModuleRef) -> Result<(), (Self, String)> {
        // Held until the decision: the boot work does not start its loader calls meanwhile.
        let boot = self.after_boot.state.clone();
        let mut boot = lock(&boot);
        if boot.in_loader_call {
            drop(boot);
            return Err((
                self,
                "res_mwi_hub is finishing its start (ARI, voicemail provider); try again".into(),
            ));
        }
        if let Some(cli) = self.cli.take() {
            if let Err(cli) = cli.unregister(module) {
                self.cli = Some(cli);
                drop(boot);
                return Err((self, "a CLI command of ours is still in use".into()));
            }
        }
        boot.stop = true;
        drop(boot);
        // The rest in field order (see `Hub`).
        drop(self);
        Ok(())
    }
}

asterisk_module! {
    type: Hub,
    name: c"res_mwi_hub",
    description: c"MWI hub: external mailboxes, incoming MWI NOTIFYs and MWI state tools",
    // Early enough that stored states are on the bus before channel drivers notify phones.
    load_priority: PRIORITY_CHANNEL_DEPEND,
    support_level: SupportLevel::Extended,
    // The incoming-NOTIFY path is a pjsip service: res_pjsip's symbols must resolve.
    requires: Some(c"res_pjsip"),
    // None. The loader refuses to load a module whose optional module is present but declined,
    // so app_voicemail and res_ari are not named: what needs them waits for the end of the boot
    // (`AfterBoot`). (Not res_pjsip_mwi either, although outbound subscriptions need the
    // message-summary package it has res_pjsip_pubsub register: loading it that early breaks
    // its body generator. They start once Asterisk is fully booted too.)
    optional_modules: None,
}
