//! PJSIP as an event-subscription client: one SUBSCRIBE dialog per [`ClientDialog`], on
//! pjproject's evsub (pjsip-simple/evsub.h) through res_pjsip's transports, serializers and
//! outbound authentication (asterisk/res_pjsip.h).
//!
//! What pjsip's evsub does not do, and how this layer fills it (see asterisk-notes, "Outbound
//! subscriptions"):
//! - It registers no package of ours: res_pjsip_pubsub already registered `message-summary`
//!   (a package registered from our image would keep a pointer into it after unload).
//! - 401/407 are answered here, inside evsub's transaction callback and before evsub's own
//!   handler (which would end the subscription): the challenge goes through
//!   `ast_sip_create_request_with_auth` with the object's `outbound_auth`, at most
//!   [`MAX_AUTH_ATTEMPTS`] times per request. Only a challenge we cannot answer is reported.
//! - Every other outcome is reported to the [`EventSink`] as a [`ClientEvent`]; the sink (the
//!   subscription's state machine) decides. evsub's own refresh timer is silenced
//!   (`on_client_refresh` does nothing): the machine refreshes.
//! - A NOTIFY that comes before pjsip has processed the server's first answer (the NOTIFY
//!   sent first, or right behind the 200 while that waits in our serializer) is in no dialog
//!   res_pjsip's distributor can find: its endpoint identification fails and it logs "No
//!   matching endpoint found" with a security event (what fail2ban bans the server for), and
//!   only then does pjsip's dialog layer take it. [`ClientModule`] registers an endpoint
//!   identifier, tried after every other, that names such a request's endpoint when its
//!   Call-ID and tags lead to a dialog of ours: a private endpoint object, stored nowhere.
//! - `pjsip_transaction` is never read (its layout differs between pjproject 2.15 and 2.17):
//!   responses are read from the received message, timeouts from the event's source type.
//!
//! Lifetimes: a dialog holds one session of ours (so pjsip never frees it under us), one
//! reference to its evsub, and in the evsub's slot of our pjsip module a pointer to its
//! [`DialogSide`] (one Arc reference). Every evsub callback runs under the dialog's lock, and
//! [`ClientDialog::close`] clears that slot under the same lock after ending the evsub
//! silently: from then on no callback reaches our code for this dialog. That exclusion, not the
//! module's gate, is what keeps these callbacks safe during unload (the gate would turn away
//! the answers to our unsubscribes): teardown drops every dialog before it returns.

use std::collections::BTreeSet;
use std::ffi::{c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use super::ao2::Ao2;
use super::guard;
use super::log::ast_error;
use super::pjsip::pj_text;
use super::{c_string, sys};
use crate::domain::subscription::target::UriTransport;

/// Challenges answered per request before the credentials count as rejected.
pub const MAX_AUTH_ATTEMPTS: u32 = 2;

/// Our pjsip module's id (its evsub data slot), -1 while not registered.
static MODULE_ID: AtomicI32 = AtomicI32::new(-1);

/// The addresses of our live dialogs: what the endpoint identifier recognises (compared,
/// never dereferenced). A static outlives the image's unload without being dropped: whatever
/// it holds then is leaked, so `ClientModule`'s Drop empties it (an emptied BTreeSet keeps
/// its root node).
static DIALOGS: Mutex<BTreeSet<usize>> = Mutex::new(BTreeSet::new());

/// The endpoint the identifier names, while it is registered (the module's reference).
static IDENTIFIED_AS: AtomicPtr<sys::ast_sip_endpoint> = AtomicPtr::new(std::ptr::null_mut());

/// The identifier's name for res_pjsip: in no endpoint_identifier_order, so tried last.
const IDENTIFIER_NAME: &CStr = c"res_mwi_hub_outbound_mwi";

/// A pjsip module of ours with no callbacks: it gives us a data slot in every evsub and the
/// name pjsip logs our dialog sessions under; with it, the endpoint identifier for requests
/// in our dialogs. Registered while any dialog may exist.
pub struct ClientModule {
    module: Box<std::cell::UnsafeCell<sys::pjsip_module>>,
    identifier: Option<Box<std::cell::UnsafeCell<sys::ast_sip_endpoint_identifier>>>,
    endpoint: Option<Ao2<sys::ast_sip_endpoint>>,
}

// SAFETY: pjsip writes the struct under its own lock while registered; we touch it only to
// register and unregister (load/unload, one thread).
unsafe impl Send for ClientModule {}
// SAFETY: shared use only passes its address to pjsip, which locks internally.
unsafe impl Sync for ClientModule {}

const MODULE_NAME: &CStr = c"res_mwi_hub outbound MWI";

impl ClientModule {
    pub fn register() -> Result<Self, String> {
        // SAFETY: all-zero is pjsip's "no callbacks" module value.
        let mut module: sys::pjsip_module = unsafe { std::mem::zeroed() };
        module.name =
            sys::pj_str_t { ptr: MODULE_NAME.as_ptr().cast_mut(), slen: MODULE_NAME.count_bytes() as _ };
        module.id = -1;
        // After everything that handles requests: it has no callbacks anyway.
        module.priority = 1000;
        let mut module = Box::new(std::cell::UnsafeCell::new(module));
        // SAFETY: the Box outlives the registration (undone in drop).
        if unsafe { sys::ast_sip_register_service(module.get_mut()) } != 0 {
            return Err("pjsip refused to register the outbound MWI module".into());
        }
        let mut this = Self { module, identifier: None, endpoint: None };
        // SAFETY: registered: pjsip has written its id.
        MODULE_ID.store(unsafe { (*this.module.get()).id }, Ordering::SeqCst);
        // An endpoint of res_pjsip's type with its defaults (as res_pjsip's own artificial
        // endpoint is made), in no configuration: it has no auth, ACL or settings of an admin's.
        // SAFETY: copies the strings; returns a new reference or NULL, owned by `endpoint`.
        this.endpoint = unsafe {
            Ao2::from_owned(
                sys::ast_sorcery_alloc(
                    sys::ast_sip_get_sorcery(),
                    c"endpoint".as_ptr(),
                    IDENTIFIER_NAME.as_ptr(),
                )
                .cast::<sys::ast_sip_endpoint>(),
            )
        };
        let Some(endpoint) = &this.endpoint else {
            return Err("could not make the endpoint for outbound MWI dialogs".into());
        };
        IDENTIFIED_AS.store(endpoint.as_ptr(), Ordering::SeqCst);
        let identifier = sys::ast_sip_endpoint_identifier { identify_endpoint: Some(identify_our_dialogs) };
        let mut identifier = Box::new(std::cell::UnsafeCell::new(identifier));
        // SAFETY: the Box and the static name outlive the registration (undone in drop).
        if unsafe {
            sys::ast_sip_register_endpoint_identifier_with_name(
                identifier.get_mut(),
                IDENTIFIER_NAME.as_ptr(),
            )
        } != 0
        {
            return Err("res_pjsip refused the endpoint identifier for outbound MWI dialogs".into());
        }
        this.identifier = Some(identifier);
        Ok(this)
    }

    fn ptr(&self) -> *mut sys::pjsip_module {
        self.module.get()
    }
}

impl Drop for ClientModule {
    fn drop(&mut self) {
        if let Some(identifier) = &self.identifier {
            // SAFETY: registered in `register`; res_pjsip calls identifiers under a read lock
            // that this takes for writing: once it returns, no thread is in ours.
            unsafe { sys::ast_sip_unregister_endpoint_identifier(identifier.get()) };
        }
        IDENTIFIED_AS.store(std::ptr::null_mut(), Ordering::SeqCst);
        // Requests being processed keep their own references to it.
        drop(self.endpoint.take());
        MODULE_ID.store(-1, Ordering::SeqCst);
        // SAFETY: registered in `register`.
        unsafe { sys::ast_sip_unregister_service(self.module.get()) };
        // Every dialog is gone by now (teardown ends them before the module); this frees the
        // set's nodes, which would otherwise outlive the image (ASan saw 104 bytes a load).
        drop(std::mem::take(&mut *crate::domain::sync::lock(&DIALOGS)));
    }
}

/// res_pjsip's endpoint identifier: our endpoint for a NOTIFY in one of our dialogs, NULL
/// (next identifier, or "No matching endpoint found") for anything else.
unsafe extern "C" fn identify_our_dialogs(rdata: *mut sys::pjsip_rx_data) -> *mut sys::ast_sip_endpoint {
    guard::gated_or("pjsip endpoint identifier", std::ptr::null_mut(), || {
        // SAFETY: res_pjsip passes the live request it is identifying.
        if rdata.is_null() || !unsafe { in_one_of_our_dialogs(&*rdata) } {
            return std::ptr::null_mut();
        }
        let endpoint = IDENTIFIED_AS.load(Ordering::SeqCst);
        if !endpoint.is_null() {
            // SAFETY: set while the module's reference keeps it alive, and cleared only after
            // this identifier is unregistered (which waits for this call): a new reference
            // for the caller, as identifiers return.
            unsafe {
                sys::__ao2_ref(
                    endpoint.cast(),
                    1,
                    c"res_mwi_hub".as_ptr(),
                    c"pjsip_client.rs".as_ptr(),
                    line!() as libc::c_int,
                    c"identify_our_dialogs".as_ptr(),
                )
            };
        }
        endpoint
    })
}

/// True for a NOTIFY whose Call-ID and To tag lead to one of our dialogs, with its From tag
/// or with the empty tag of a dialog still waiting for its first answer.
///
/// # Safety
/// `rdata` is a live received message whose parsed headers live in its pool.
unsafe fn in_one_of_our_dialogs(rdata: &sys::pjsip_rx_data) -> bool {
    let info = &rdata.msg_info;
    // SAFETY: each is NULL or parsed into the message's pool, alive with the request.
    let parsed = unsafe { (info.msg.as_ref(), info.cid.as_ref(), info.from.as_ref(), info.to.as_ref()) };
    let (Some(msg), Some(cid), Some(from), Some(to)) = parsed else { return false };
    if msg.type_ != sys::PJSIP_REQUEST_MSG {
        return false;
    }
    // SAFETY: a request's method name is a counted string in the message's pool.
    let method = unsafe { pj_text(&msg.line.req.method.name) };
    if !method.eq_ignore_ascii_case("NOTIFY") {
        return false;
    }
    if to.tag.slen <= 0 || crate::domain::sync::lock(&DIALOGS).is_empty() {
        return false;
    }
    let no_tag = sys::pj_str_t { ptr: c"".as_ptr().cast_mut(), slen: 0 };
    let ours = [&from.tag, &no_tag].into_iter().any(|remote_tag| {
        // SAFETY: counted strings read for the call; without the lock flag pjsip only looks
        // the dialog up (under its own mutex) and returns its address, which is compared only.
        let dlg = unsafe { sys::pjsip_ua_find_dialog(&cid.hvalue, &to.tag, remote_tag, 0) };
        !dlg.is_null() && crate::domain::sync::lock(&DIALOGS).contains(&(dlg as usize))
    });
    ours
}

/// A res_pjsip serializer (a queue run by one SIP thread at a time); unreferenced on drop.
pub struct Serializer {
    tps: *mut sys::ast_taskprocessor,
}

// SAFETY: taskprocessors are reference counted and locked internally.
unsafe impl Send for Serializer {}
// SAFETY: as above.
unsafe impl Sync for Serializer {}

type Task = Box<dyn FnOnce() + Send + 'static>;

unsafe extern "C" fn run_task(data: *mut c_void) -> libc::c_int {
    // SAFETY: data is the Box<Task> leaked by `push` for exactly one run.
    let task = unsafe { Box::from_raw(data.cast::<Task>()) };
    // Not gated: teardown's own tasks run while the module unloads, and teardown waits for
    // every queue (Serializer::barrier) before the image can go.
    guard::entry_or("pjsip task", 0, move || {
        task();
        0
    })
}

unsafe extern "C" fn nothing(_data: *mut c_void) -> libc::c_int {
    0
}

impl Serializer {
    pub fn create(name: &str) -> Result<Self, String> {
        let cname = c_string(name);
        // SAFETY: the name is copied.
        let tps = unsafe { sys::ast_sip_create_serializer(cname.as_ptr()) };
        if tps.is_null() {
            return Err(format!("could not create serializer {name}"));
        }
        Ok(Self { tps })
    }

    /// Runs `task` on the serializer; false when res_pjsip refused it (it is then dropped).
    pub fn push(&self, task: impl FnOnce() + Send + 'static) -> bool {
        let boxed: Box<Task> = Box::new(Box::new(task));
        let raw = Box::into_raw(boxed);
        // SAFETY: run_task takes ownership of raw when it runs.
        if unsafe { sys::ast_sip_push_task(self.tps, Some(run_task), raw.cast()) } != 0 {
            // SAFETY: refused, so still ours.
            drop(unsafe { Box::from_raw(raw) });
            return false;
        }
        true
    }

    /// Whether the calling thread is running one of this serializer's tasks (so no other task
    /// of it runs meanwhile).
    pub fn is_current(&self) -> bool {
        // SAFETY: a live taskprocessor (we hold a reference).
        unsafe { sys::ast_taskprocessor_is_task(self.tps) != 0 }
    }

    /// Returns once every task pushed before has run. Never call it on this serializer.
    pub fn barrier(&self) {
        // SAFETY: `nothing` is a no-op; the call waits for the queue up to it.
        unsafe { sys::ast_sip_push_task_wait_serializer(self.tps, Some(nothing), std::ptr::null_mut()) };
    }
}

impl Drop for Serializer {
    fn drop(&mut self) {
        // SAFETY: our one reference, given back once.
        unsafe { sys::ast_taskprocessor_unreference(self.tps) };
    }
}

/// What happened in a dialog, for its sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A final response to our latest SUBSCRIBE (a 401/407 only when it could not be answered).
    Response { code: u16, expires: Option<u32>, min_expires: Option<u32>, retry_after: Option<u32> },
    /// Our SUBSCRIBE timed out.
    NoResponse,
    /// It could not be sent (transport failure); the text says why.
    TransportError(String),
    /// An in-dialog NOTIFY (answered 200 by evsub): its Subscription-State header and, when
    /// its Content-Type is application/simple-message-summary, its body.
    Notify { subscription_state: Option<String>, summary: Option<Vec<u8>> },
    /// pjsip ended the subscription (after a failure, a NOTIFY terminated, or a timeout).
    Ended,
}

/// Receives a dialog's events, on pjsip's threads, under the dialog's lock: it must only
/// record them and return (no pjsip call, no wait).
pub trait EventSink: Send + Sync + 'static {
    fn event(&self, dialog: u64, event: ClientEvent);
}

/// How to reach the remote mailbox.
#[derive(Debug, Clone)]
pub struct DialogSpec {
    /// Request-URI and To.
    pub server_uri: String,
    /// From; None: `sip:<user>@<our address>`.
    pub from_uri: Option<String>,
    /// The user of our default From and of our Contact.
    pub user: String,
    /// Our Contact's user, if not `user`.
    pub contact_user: Option<String>,
    /// A res_pjsip transport by name.
    pub transport: Option<String>,
    /// The transport type the URI implies (what pjsip will use).
    pub kind: UriTransport,
    pub ipv6: bool,
    /// A SIP URI to route the dialog through.
    pub outbound_proxy: Option<String>,
    /// res_pjsip auth object names.
    pub auth: Vec<String>,
}

/// pjsip's transport type for `kind`.
fn pj_type(kind: UriTransport, ipv6: bool) -> sys::pjsip_transport_type_e {
    let base = match kind {
        UriTransport::Udp => sys::PJSIP_TRANSPORT_UDP,
        UriTransport::Tcp => sys::PJSIP_TRANSPORT_TCP,
        UriTransport::Tls => sys::PJSIP_TRANSPORT_TLS,
    };
    if ipv6 {
        base | sys::PJSIP_TRANSPORT_IPV6
    } else {
        base
    }
}

/// The URI parameter our From and Contact carry for `kind` (none for UDP, as res_pjsip does).
fn uri_param(kind: UriTransport) -> &'static str {
    match kind {
        UriTransport::Udp => "",
        UriTransport::Tcp => ";transport=tcp",
        UriTransport::Tls => ";transport=tls",
    }
}

/// res_pjsip's auth vector, destroyed on drop.
struct AuthVector(sys::ast_sip_auth_vector);

// SAFETY: the vector owns heap strings, read by res_pjsip during calls we make.
unsafe impl Send for AuthVector {}

impl Drop for AuthVector {
    fn drop(&mut self) {
        // SAFETY: initialised by ast_sip_auth_vector_init, destroyed once.
        unsafe { sys::ast_sip_auth_vector_destroy(&mut self.0) };
    }
}

/// One reference to a pjsip transmit buffer.
struct TxRef(*mut sys::pjsip_tx_data);

// SAFETY: tdata reference counts are atomic; we only pass it back to pjsip.
unsafe impl Send for TxRef {}

impl Drop for TxRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { sys::pjsip_tx_data_dec_ref(self.0) };
    }
}

/// What callbacks of one dialog need, kept apart from the dialog handle.
struct DialogSide {
    id: u64,
    sink: Arc<dyn EventSink>,
    auth: Mutex<Option<AuthVector>>,
    /// The request last sent: what a challenge is answered from.
    last_request: Mutex<Option<TxRef>>,
    auth_attempts: AtomicU32,
    ended: AtomicBool,
}

/// One subscription dialog. All its methods run on a pjsip thread (a serializer task).
pub struct ClientDialog {
    dlg: *mut sys::pjsip_dialog,
    evsub: *mut sys::pjsip_evsub,
    side: *const DialogSide,
    module: *mut sys::pjsip_module,
    /// The endpoint res_pjsip files the dialog's incoming requests under (the association
    /// borrows it: this reference keeps it alive while set).
    endpoint: Option<Ao2<sys::ast_sip_endpoint>>,
}

// SAFETY: pjsip dialogs are used from any pjsip thread under their own lock, which every
// method here takes.
unsafe impl Send for ClientDialog {}

fn pj(text: &CStr) -> sys::pj_str_t {
    sys::pj_str_t { ptr: text.as_ptr().cast_mut(), slen: text.count_bytes() as _ }
}

/// A transport selector, unreferenced on drop.
struct Selector(sys::pjsip_tpselector);

impl Selector {
    fn for_transport(name: Option<&str>) -> Result<Self, String> {
        // SAFETY: all-zero is PJSIP_TPSELECTOR_NONE.
        let mut sel = Self(unsafe { std::mem::zeroed() });
        if let Some(name) = name {
            let cname = c_string(name);
            // SAFETY: fills the selector (with a reference released in drop).
            if unsafe { sys::ast_sip_set_tpselector_from_transport_name(cname.as_ptr(), &mut sel.0) } != 0 {
                return Err(format!("transport '{name}' is not available"));
            }
        }
        Ok(sel)
    }
}

impl Drop for Selector {
    fn drop(&mut self) {
        // SAFETY: a selector filled by res_pjsip, or NONE (a no-op).
        unsafe { sys::ast_sip_tpselector_unref(&mut self.0) };
    }
}

/// A pjsip memory pool for the duration of a call.
struct Pool(*mut sys::pj_pool_t);

impl Pool {
    fn new() -> Result<Self, String> {
        // SAFETY: res_pjsip's endpoint; released in drop.
        let pool = unsafe {
            sys::pjsip_endpt_create_pool(sys::ast_sip_get_pjsip_endpoint(), c"mwihub".as_ptr(), 512, 512)
        };
        if pool.is_null() {
            return Err("out of memory (pjsip pool)".into());
        }
        Ok(Self(pool))
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // SAFETY: created by pjsip_endpt_create_pool, released once.
        unsafe { sys::pjsip_endpt_release_pool(sys::ast_sip_get_pjsip_endpoint(), self.0) };
    }
}

/// Our address for `kind` toward `sel`, as `host:port` (IPv6 bracketed).
fn local_address(kind: UriTransport, ipv6: bool, sel: &Selector) -> Result<String, String> {
    let pool = Pool::new()?;
    let mut addr = sys::pj_str_t { ptr: std::ptr::null_mut(), slen: 0 };
    let mut port: libc::c_int = 0;
    // SAFETY: live endpoint and pool; the result string lives in the pool (copied below).
    let rc = unsafe {
        sys::pjsip_tpmgr_find_local_addr(
            sys::pjsip_endpt_get_tpmgr(sys::ast_sip_get_pjsip_endpoint()),
            pool.0,
            pj_type(kind, ipv6),
            &sel.0,
            &mut addr,
            &mut port,
        )
    };
    if rc != 0 {
        return Err(format!("no local {kind:?} transport to reach the server (pjsip status {rc})"));
    }
    // SAFETY: set by the call, in the pool that is still alive.
    let host = unsafe { pj_text(&addr) };
    Ok(if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
}

fn enclosed(uri: &str) -> String {
    if uri.starts_with('<') {
        uri.to_owned()
    } else {
        format!("<{uri}>")
    }
}

static USER_CB: sys::pjsip_evsub_user = sys::pjsip_evsub_user {
    on_evsub_state: Some(on_evsub_state),
    on_tsx_state: Some(on_tsx_state),
    on_rx_refresh: None,
    on_rx_notify: Some(on_rx_notify),
    on_client_refresh: Some(on_client_refresh),
    on_server_timeout: None,
};

impl ClientDialog {
    /// A new dialog toward `spec.server_uri`, its in-dialog traffic on `serializer`, its
    /// events to `sink` tagged `id`. Nothing is sent yet.
    pub fn create(
        module: &ClientModule,
        spec: &DialogSpec,
        serializer: &Serializer,
        sink: Arc<dyn EventSink>,
        id: u64,
    ) -> Result<Self, String> {
        let module_id = MODULE_ID.load(Ordering::SeqCst);
        if module_id < 0 {
            return Err("the outbound MWI module is not registered".into());
        }
        let sel = Selector::for_transport(spec.transport.as_deref())?;
        let local = local_address(spec.kind, spec.ipv6, &sel)?;
        let param = uri_param(spec.kind);
        let from = match &spec.from_uri {
            Some(uri) => enclosed(uri),
            None => format!("<sip:{}@{local}{param}>", spec.user),
        };
        let contact = format!("<sip:{}@{local}{param}>", spec.contact_user.as_deref().unwrap_or(&spec.user));
        let (from_c, contact_c, remote_c, target_c) = (
            c_string(&from),
            c_string(&contact),
            c_string(&enclosed(&spec.server_uri)),
            c_string(&spec.server_uri),
        );
        let (from_p, contact_p, remote_p, target_p) =
            (pj(&from_c), pj(&contact_c), pj(&remote_c), pj(&target_c));
        let mut dlg: *mut sys::pjsip_dialog = std::ptr::null_mut();
        // SAFETY: pjsip copies every string into the new dialog's pool.
        let rc = unsafe {
            sys::pjsip_dlg_create_uac(
                sys::pjsip_ua_instance(),
                &from_p,
                &contact_p,
                &remote_p,
                &target_p,
                &mut dlg,
            )
        };
        if rc != 0 || dlg.is_null() {
            return Err(format!("pjsip could not create a dialog to {} (status {rc})", spec.server_uri));
        }
        // SAFETY: a new dialog (session count 0): our session keeps it alive until close.
        unsafe { sys::pjsip_dlg_inc_session(dlg, module.ptr()) };
        let mut this = Self {
            dlg,
            evsub: std::ptr::null_mut(),
            side: std::ptr::null(),
            module: module.ptr(),
            endpoint: None,
        };
        crate::domain::sync::lock(&DIALOGS).insert(dlg as usize);
        // SAFETY: a live dialog; pjsip takes its own reference to the selected transport.
        unsafe { sys::pjsip_dlg_set_transport(dlg, &sel.0) };
        if let Some(proxy) = &spec.outbound_proxy {
            this.set_route(proxy)?;
        }
        let mut evsub: *mut sys::pjsip_evsub = std::ptr::null_mut();
        let event = pj(c"message-summary");
        // SAFETY: the callbacks are copied; the package was registered by res_pjsip_pubsub.
        let rc = unsafe {
            sys::pjsip_evsub_create_uac(dlg, &USER_CB, &event, sys::PJSIP_EVSUB_NO_EVENT_ID, &mut evsub)
        };
        if rc != 0 || evsub.is_null() {
            return Err(format!(
                "pjsip could not create a message-summary subscription (status {rc}; is res_pjsip_mwi loaded?)"
            ));
        }
        this.evsub = evsub;
        let auth = if spec.auth.is_empty() {
            None
        } else {
            // SAFETY: all-zero is an empty vector; init fills it from the comma list.
            let mut vector = AuthVector(unsafe { std::mem::zeroed() });
            let names = c_string(&spec.auth.join(","));
            // SAFETY: as above.
            if unsafe { sys::ast_sip_auth_vector_init(&mut vector.0, names.as_ptr()) } != 0 {
                return Err("could not read outbound_auth".into());
            }
            Some(vector)
        };
        let side = Arc::new(DialogSide {
            id,
            sink,
            auth: Mutex::new(auth),
            last_request: Mutex::new(None),
            auth_attempts: AtomicU32::new(0),
            ended: AtomicBool::new(false),
        });
        this.side = Arc::into_raw(side);
        // The server's requests in this dialog (NOTIFYs) need no endpoint, but without one
        // res_pjsip runs endpoint identification on each, fails, and logs "No matching
        // endpoint found" with a security event: what fail2ban bans the server for. Its
        // artificial endpoint says "known, no endpoint" and skips that.
        // SAFETY: returns a new reference (or NULL), which `endpoint` owns.
        this.endpoint = unsafe { Ao2::from_owned(sys::ast_sip_get_artificial_endpoint()) };
        let endpoint = this.endpoint.as_ref().map_or(std::ptr::null_mut(), Ao2::as_ptr);
        // SAFETY: a live evsub: the reference and the slot are given back in close. The
        // dialog's associations (cleared together in drop) borrow the serializer (ours, which
        // outlives every dialog) and the endpoint (our reference, released after them).
        unsafe {
            sys::pjsip_dlg_inc_lock(dlg);
            sys::pjsip_evsub_add_ref(evsub);
            sys::pjsip_evsub_set_mod_data(evsub, module_id as u32, this.side.cast_mut().cast());
            sys::ast_sip_dialog_set_serializer(dlg, serializer.tps);
            sys::ast_sip_dialog_set_endpoint(dlg, endpoint);
            sys::pjsip_dlg_dec_lock(dlg);
        }
        Ok(this)
    }

    fn set_route(&mut self, proxy: &str) -> Result<(), String> {
        let pool = Pool::new()?;
        let mut line = format!("{}\0", enclosed(proxy)).into_bytes();
        let name = pj(c"Route");
        // SAFETY: parses into the pool; `line` is read during the call.
        let route = unsafe {
            sys::pjsip_parse_hdr(
                pool.0,
                &name,
                line.as_mut_ptr().cast(),
                (line.len() - 1) as _,
                std::ptr::null_mut(),
            )
        }
        .cast::<sys::pjsip_hdr>();
        if route.is_null() {
            return Err(format!("outbound_proxy '{proxy}' is not a SIP URI pjsip can route to"));
        }
        // A one-element list: pjsip_dlg_set_route_set reads only the head's links and clones
        // the elements into the dialog's pool.
        // SAFETY: all-zero header as list head; route lives in the pool until it is released.
        let mut head: Box<sys::pjsip_hdr> = Box::new(unsafe { std::mem::zeroed() });
        let head_ptr: *mut sys::pjsip_hdr = &mut *head;
        // SAFETY: linking two live headers; the dialog is live.
        unsafe {
            (*head_ptr).next = route;
            (*head_ptr).prev = route;
            (*route).next = head_ptr;
            (*route).prev = head_ptr;
            sys::pjsip_dlg_set_route_set(self.dlg, head_ptr.cast());
        }
        Ok(())
    }

    fn side(&self) -> Option<&DialogSide> {
        // SAFETY: side is NULL or the Arc pointer we hold until drop.
        unsafe { self.side.as_ref() }
    }

    /// Sends SUBSCRIBE with `expires` (0 unsubscribes) in this dialog. Err when pjsip has
    /// ended the dialog or could not send.
    pub fn subscribe(&self, expires: u32) -> Result<(), String> {
        let Some(side) = self.side() else { return Err("no subscription".into()) };
        // SAFETY: our session keeps the dialog alive; its lock serialises us with callbacks.
        unsafe { sys::pjsip_dlg_inc_lock(self.dlg) };
        let result = (|| {
            if side.ended.load(Ordering::SeqCst) {
                return Err("the subscription has ended".to_owned());
            }
            let mut tdata: *mut sys::pjsip_tx_data = std::ptr::null_mut();
            // SAFETY: a live, not-terminated evsub (checked above, under the dialog lock).
            let rc = unsafe { sys::pjsip_evsub_initiate(self.evsub, std::ptr::null(), expires, &mut tdata) };
            if rc != 0 || tdata.is_null() {
                return Err(format!("could not build SUBSCRIBE (pjsip status {rc})"));
            }
            // SAFETY: a live tdata: one more reference, kept to answer a challenge from.
            unsafe { sys::pjsip_tx_data_add_ref(tdata) };
            *crate::domain::sync::lock(&side.last_request) = Some(TxRef(tdata));
            side.auth_attempts.store(0, Ordering::SeqCst);
            // SAFETY: sends (and consumes the reference initiate gave us).
            let rc = unsafe { sys::pjsip_evsub_send_request(self.evsub, tdata) };
            if rc != 0 {
                return Err(format!("could not send SUBSCRIBE (pjsip status {rc})"));
            }
            Ok(())
        })();
        // SAFETY: taken above.
        unsafe { sys::pjsip_dlg_dec_lock(self.dlg) };
        result
    }
}

impl Drop for ClientDialog {
    /// Ends the subscription without sending anything (unsubscribing is `subscribe(0)`,
    /// before) and lets go of the dialog.
    fn drop(&mut self) {
        let module_id = MODULE_ID.load(Ordering::SeqCst);
        // SAFETY: our session keeps the dialog alive; under its lock no callback of this
        // evsub runs, and after it none reaches us (its slot is cleared, callbacks disabled).
        unsafe {
            sys::pjsip_dlg_inc_lock(self.dlg);
            if !self.evsub.is_null() {
                // Always, even when pjsip already ended it: that also turns off its callbacks
                // for transactions still finishing (a terminated evsub keeps calling them).
                // Memory-safe even after evsub destroyed itself: it lives in the dialog's pool,
                // which our session keeps, and our reference keeps its lock.
                sys::pjsip_evsub_terminate(self.evsub, 0);
                if module_id >= 0 {
                    sys::pjsip_evsub_set_mod_data(self.evsub, module_id as u32, std::ptr::null_mut());
                }
            }
            sys::pjsip_dlg_dec_lock(self.dlg);
        }
        if !self.side.is_null() {
            // SAFETY: the reference given to the slot in create, now unreachable from pjsip.
            let side = unsafe { Arc::from_raw(self.side) };
            crate::domain::sync::lock(&side.last_request).take();
            drop(side);
            // SAFETY: the reference taken in create (only when side was set).
            unsafe { sys::pjsip_evsub_dec_ref(self.evsub) };
        }
        // res_pjsip keeps the dialog -> serializer association (keyed by the dialog's address,
        // without a reference to the serializer) until told otherwise: left behind, a later
        // dialog at the same address would be routed to a serializer freed at unload (a crash
        // seen in the unload/load cycles).
        // SAFETY: the dialog is alive (our session); NULL for both removes the association
        // (which holds no reference to the endpoint: ours is released after).
        unsafe {
            sys::ast_sip_dialog_set_endpoint(self.dlg, std::ptr::null_mut());
            sys::ast_sip_dialog_set_serializer(self.dlg, std::ptr::null_mut());
        }
        drop(self.endpoint.take());
        crate::domain::sync::lock(&DIALOGS).remove(&(self.dlg as usize));
        // SAFETY: our session from create; the dialog may be freed now.
        unsafe { sys::pjsip_dlg_dec_session(self.dlg, self.module) };
    }
}

/// The side of the evsub's dialog, if it is still ours.
///
/// # Safety
/// Called from an evsub callback (under the dialog's lock) with a live `sub`.
unsafe fn side_of<'a>(sub: *mut sys::pjsip_evsub) -> Option<&'a DialogSide> {
    let id = MODULE_ID.load(Ordering::SeqCst);
    if id < 0 || sub.is_null() {
        return None;
    }
    // SAFETY: as promised; the slot is NULL or our DialogSide, alive while set.
    unsafe { sys::pjsip_evsub_get_mod_data(sub, id as u32).cast::<DialogSide>().as_ref() }
}

/// The value of header `name` of a received message, whatever pjsip parsed it into (typed
/// headers such as Expires are printed back to text: reading them as generic string headers,
/// as ast_sip_rdata_get_header_value does, reads garbage).
///
/// # Safety
/// `rdata` is live.
unsafe fn header(rdata: *mut sys::pjsip_rx_data, name: &CStr) -> Option<String> {
    // SAFETY: as promised; msg is NULL or the parsed message.
    let msg = unsafe { (*rdata).msg_info.msg };
    if msg.is_null() {
        return None;
    }
    let name_pj = pj(name);
    // SAFETY: a live message; the header found (if any) lives in its pool.
    let hdr = unsafe { sys::pjsip_msg_find_hdr_by_name(msg, &name_pj, std::ptr::null()) };
    if hdr.is_null() {
        return None;
    }
    let mut buf = [0u8; 512];
    // SAFETY: prints into our buffer, at most its length.
    let len = unsafe { sys::pjsip_hdr_print_on(hdr, buf.as_mut_ptr().cast(), buf.len() as _) };
    let len = usize::try_from(len).ok()?.min(buf.len());
    let text = String::from_utf8_lossy(&buf[..len]);
    let (_, value) = text.split_once(':')?;
    Some(value.trim().to_owned())
}

fn seconds(text: Option<String>) -> Option<u32> {
    // Retry-After may carry a comment and parameters: "120 (busy);duration=60".
    let text = text?;
    let digits: String = text.trim().chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

unsafe extern "C" fn on_evsub_state(sub: *mut sys::pjsip_evsub, _event: *mut sys::pjsip_event) {
    guard::entry_or("evsub state", (), || {
        // SAFETY: pjsip calls us with a live sub under its dialog's lock.
        let Some(side) = (unsafe { side_of(sub) }) else { return };
        // SAFETY: as above.
        if unsafe { sys::pjsip_evsub_get_state(sub) } == sys::PJSIP_EVSUB_STATE_TERMINATED
            && !side.ended.swap(true, Ordering::SeqCst)
        {
            side.sink.event(side.id, ClientEvent::Ended);
        }
    })
}

unsafe extern "C" fn on_tsx_state(
    sub: *mut sys::pjsip_evsub,
    _tsx: *mut sys::pjsip_transaction,
    event: *mut sys::pjsip_event,
) {
    guard::entry_or("evsub transaction", (), || {
        // SAFETY: live sub under its dialog's lock (pjsip's callback contract).
        let Some(side) = (unsafe { side_of(sub) }) else { return };
        // SAFETY: pjsip passes a live event for the call.
        let Some(event) = (unsafe { event.as_ref() }) else { return };
        if event.type_ != sys::PJSIP_EVENT_TSX_STATE {
            return;
        }
        // SAFETY: for TSX_STATE events the body is tsx_state.
        let tsx_state = unsafe { &event.body.tsx_state };
        match tsx_state.type_ {
            sys::PJSIP_EVENT_RX_MSG => {
                let rdata = tsx_state.src.cast::<sys::pjsip_rx_data>();
                // SAFETY: for RX_MSG the source is the received message, live for the call.
                let Some(rx) = (unsafe { rdata.as_ref() }) else { return };
                // SAFETY: msg is NULL or the parsed message.
                let Some(msg) = (unsafe { rx.msg_info.msg.as_ref() }) else { return };
                if msg.type_ != sys::PJSIP_RESPONSE_MSG {
                    return;
                }
                // SAFETY: cseq is NULL or the parsed CSeq; its method name is a counted string.
                let is_subscribe = unsafe { rx.msg_info.cseq.as_ref() }
                    .is_some_and(|c| unsafe { pj_text(&c.method.name) }.eq_ignore_ascii_case("SUBSCRIBE"));
                if !is_subscribe {
                    return;
                }
                // SAFETY: a response: the line is the status line.
                let code = unsafe { msg.line.status.code };
                if !(200..700).contains(&code) {
                    return;
                }
                // SAFETY: rdata is live for the call.
                if (code == 401 || code == 407) && unsafe { answer_challenge(sub, side, rdata) } {
                    return;
                }
                // Answered for good: the request need not be kept (a transmit buffer per
                // subscription is most of its memory otherwise).
                crate::domain::sync::lock(&side.last_request).take();
                // SAFETY: as above.
                let (expires, min_expires, retry_after) = unsafe {
                    (
                        seconds(header(rdata, c"Expires")),
                        seconds(header(rdata, c"Min-Expires")),
                        seconds(header(rdata, c"Retry-After")),
                    )
                };
                side.sink.event(
                    side.id,
                    ClientEvent::Response { code: code as u16, expires, min_expires, retry_after },
                );
            }
            // A UAC transaction that ends without a final response: Timer B/F or the transport.
            sys::PJSIP_EVENT_TIMER
                if tsx_state.prev_state == sys::PJSIP_TSX_STATE_CALLING as i32
                    || tsx_state.prev_state == sys::PJSIP_TSX_STATE_PROCEEDING as i32 =>
            {
                side.sink.event(side.id, ClientEvent::NoResponse);
            }
            sys::PJSIP_EVENT_TRANSPORT_ERROR
                if tsx_state.prev_state != sys::PJSIP_TSX_STATE_COMPLETED as i32
                    && tsx_state.prev_state != sys::PJSIP_TSX_STATE_TRYING as i32 =>
            {
                side.sink.event(side.id, ClientEvent::TransportError("transport error".into()));
            }
            _ => {}
        }
    })
}

/// Answers a 401/407 to our SUBSCRIBE with outbound_auth, in the same dialog; evsub then
/// ignores the challenged transaction (a newer SUBSCRIBE replaced it). False when it cannot
/// (no auth, attempts used up, or res_pjsip found no matching credentials).
///
/// # Safety
/// Called from the transaction callback with a live sub and rdata.
unsafe fn answer_challenge(
    sub: *mut sys::pjsip_evsub,
    side: &DialogSide,
    rdata: *mut sys::pjsip_rx_data,
) -> bool {
    if side.auth_attempts.fetch_add(1, Ordering::SeqCst) >= MAX_AUTH_ATTEMPTS {
        return false;
    }
    let auth = crate::domain::sync::lock(&side.auth);
    let Some(vector) = auth.as_ref() else { return false };
    let last = crate::domain::sync::lock(&side.last_request);
    let Some(old) = last.as_ref() else { return false };
    let mut new: *mut sys::pjsip_tx_data = std::ptr::null_mut();
    // SAFETY: live challenge and request; new is a fresh tdata with one reference for us.
    let rc = unsafe { sys::ast_sip_create_request_with_auth(&vector.0, rdata, old.0, &mut new) };
    drop(last);
    drop(auth);
    if rc != 0 || new.is_null() {
        return false;
    }
    // SAFETY: keep one reference for a further challenge; send consumes the other.
    unsafe { sys::pjsip_tx_data_add_ref(new) };
    *crate::domain::sync::lock(&side.last_request) = Some(TxRef(new));
    // SAFETY: a live sub under its dialog's lock (recursive).
    let rc = unsafe { sys::pjsip_evsub_send_request(sub, new) };
    if rc != 0 {
        ast_error!("could not send the authenticated SUBSCRIBE (pjsip status {rc})");
        return false;
    }
    true
}

unsafe extern "C" fn on_rx_notify(
    sub: *mut sys::pjsip_evsub,
    rdata: *mut sys::pjsip_rx_data,
    _p_st_code: *mut libc::c_int,
    _p_st_text: *mut *mut sys::pj_str_t,
    _res_hdr: *mut sys::pjsip_hdr,
    _p_body: *mut *mut sys::pjsip_msg_body,
) {
    // Whatever the body, evsub answers 200: a malformed summary must not end the subscription.
    guard::entry_or("evsub notify", (), || {
        // SAFETY: live sub under its dialog's lock.
        let Some(side) = (unsafe { side_of(sub) }) else { return };
        // SAFETY: pjsip passes the live NOTIFY.
        let Some(rx) = (unsafe { rdata.as_ref() }) else { return };
        // SAFETY: as above.
        let subscription_state = unsafe { header(rdata, c"Subscription-State") };
        // SAFETY: msg is NULL or the parsed message; body NULL or its parsed body.
        let summary = unsafe { rx.msg_info.msg.as_ref().and_then(|m| m.body.as_ref()) }.and_then(|body| {
            // SAFETY: counted strings and `len` bytes of the message.
            let (t, s) = unsafe { (pj_text(&body.content_type.type_), pj_text(&body.content_type.subtype)) };
            if !(t.eq_ignore_ascii_case("application") && s.eq_ignore_ascii_case("simple-message-summary")) {
                return None;
            }
            if body.data.is_null() {
                return Some(Vec::new());
            }
            // SAFETY: as above.
            Some(unsafe { std::slice::from_raw_parts(body.data.cast::<u8>(), body.len as usize) }.to_vec())
        });
        side.sink.event(side.id, ClientEvent::Notify { subscription_state, summary });
    })
}

unsafe extern "C" fn on_client_refresh(_sub: *mut sys::pjsip_evsub) {
    // The state machine refreshes on its own clock; evsub's timer is ignored.
}
