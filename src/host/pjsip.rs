//! PJSIP services and incoming requests (asterisk/res_pjsip.h, pjsip/sip_module.h,
//! pjsip/sip_msg.h, pjsip/sip_util.h).
//!
//! A service is a type implementing [`RequestHandler`]; [`PjsipService::register`] puts it in
//! pjsip's module chain at its priority and takes it out on drop. pjsip calls modules without
//! user data, so the C callback is a trampoline monomorphised per handler type. Every call
//! passes the module's gate and the guard; while the module unloads (or after a panic before
//! any answer) the request is passed on, so pjsip's later modules handle it as if we were not
//! there.
//!
//! pjsip holds its module list read-locked while it calls a module, and
//! `ast_sip_unregister_service` takes it write-locked: once the drop returns, no thread is in
//! our callback and none will enter it.

use std::cell::{Cell, UnsafeCell};
use std::ffi::CStr;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

use super::ao2::Ao2;
use super::guard;
use super::log::{ast_error, ast_warning};
use super::sys;

/// pjsip's priority of res_pjsip's authenticator: a module after it only sees identified,
/// authenticated requests.
pub const PRIORITY_AFTER_AUTHENTICATION: i32 = 63;
/// Before res_pjsip's distributor (priority 10), which hands requests to worker threads: a
/// module here runs on pjsip's receiving thread, in arrival order. It must be quick.
pub const PRIORITY_ON_RECEIVING_THREAD: i32 = 9;

/// What a handler did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Answered (or deliberately absorbed): later modules do not see it.
    Claimed,
    /// Untouched: pjsip's later modules handle it.
    PassedOn,
}

/// A pjsip module that looks at incoming requests.
pub trait RequestHandler: 'static {
    /// The module name pjsip knows it by (unique in pjsip).
    const NAME: &'static CStr;
    /// Its place in pjsip's module chain (lower runs earlier).
    const PRIORITY: i32;
    fn on_request(request: &IncomingRequest<'_>) -> Handled;
}

/// A registered service; dropping it unregisters it.
pub struct PjsipService {
    module: Box<UnsafeCell<sys::pjsip_module>>,
}

// SAFETY: the module struct is only written by pjsip (under its own lock) while registered;
// we touch it only to register and unregister, from one thread at a time (load/unload).
unsafe impl Send for PjsipService {}

impl PjsipService {
    pub fn register<H: RequestHandler>() -> Result<Self, String> {
        // SAFETY: an all-zero pjsip_module is the "no callbacks, not registered" value pjsip
        // expects (C code declares them static and fills only some fields).
        let mut module: sys::pjsip_module = unsafe { std::mem::zeroed() };
        module.name = sys::pj_str_t { ptr: H::NAME.as_ptr().cast_mut(), slen: H::NAME.count_bytes() as _ };
        module.id = -1;
        module.priority = H::PRIORITY;
        module.on_rx_request = Some(on_rx_request::<H>);
        let service = Self { module: Box::new(UnsafeCell::new(module)) };
        // SAFETY: the module lives in a Box that outlives its registration (unregistered on
        // drop, before the Box is freed); its name points to a static string.
        if unsafe { sys::ast_sip_register_service(service.module.get()) } != 0 {
            // Not registered: nothing to undo.
            std::mem::forget(service);
            return Err(format!("pjsip refused to register module {}", H::NAME.to_string_lossy()));
        }
        Ok(service)
    }
}

impl Drop for PjsipService {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; this returns after pjsip removed it from its list,
        // under the write lock that excludes every caller of the module's callbacks.
        unsafe { sys::ast_sip_unregister_service(self.module.get()) };
    }
}

unsafe extern "C" fn on_rx_request<H: RequestHandler>(rdata: *mut sys::pjsip_rx_data) -> sys::pj_bool_t {
    if rdata.is_null() {
        return 0;
    }
    let request = IncomingRequest { rdata, responded: Cell::new(false), _call: PhantomData };
    guard::gated(
        "pjsip on_rx_request",
        0,
        // Unloading: untouched, pjsip's later modules answer it. A panic after our answer: the
        // request is done; before it: let Asterisk answer.
        |_| i32::from(request.responded.get()),
        || match H::on_request(&request) {
            Handled::Claimed => 1,
            Handled::PassedOn => i32::from(request.responded.get()),
        },
    )
}

/// The body of a request: its media type and bytes.
pub struct Body<'a> {
    pub media_type: String,
    pub subtype: String,
    pub data: &'a [u8],
}

/// One incoming request, for the duration of a module callback.
pub struct IncomingRequest<'a> {
    rdata: *mut sys::pjsip_rx_data,
    responded: Cell<bool>,
    _call: PhantomData<&'a ()>,
}

/// Text of a pjsip counted string.
///
/// # Safety
/// `s.ptr` is NULL or points to `s.slen` readable bytes for the duration of the call.
pub(super) unsafe fn pj_text(s: &sys::pj_str_t) -> String {
    if s.ptr.is_null() || s.slen <= 0 {
        return String::new();
    }
    // SAFETY: as the caller promises.
    let bytes = unsafe { std::slice::from_raw_parts(s.ptr.cast::<u8>(), s.slen as usize) };
    String::from_utf8_lossy(bytes).into_owned()
}

static LAYOUT_WARNED: AtomicBool = AtomicBool::new(false);

impl IncomingRequest<'_> {
    fn rdata(&self) -> &sys::pjsip_rx_data {
        // SAFETY: pjsip passes a live rdata for the whole callback, which this value spans.
        unsafe { &*self.rdata }
    }

    fn msg(&self) -> Option<&sys::pjsip_msg> {
        // SAFETY: msg_info.msg is NULL or the parsed message, owned by the rdata's pool.
        unsafe { self.rdata().msg_info.msg.as_ref() }
    }

    /// True for a request whose method is `method` (e.g. "NOTIFY").
    pub fn is_method(&self, method: &str) -> bool {
        let Some(msg) = self.msg() else { return false };
        if msg.type_ != sys::PJSIP_REQUEST_MSG {
            return false;
        }
        // SAFETY: the method name is a counted string in the message's pool.
        unsafe { pj_text(&msg.line.req.method.name) }.eq_ignore_ascii_case(method)
    }

    /// The value of the first header called `name`, if any.
    pub fn header(&self, name: &str) -> Option<String> {
        let name =
            sys::pj_str_t { ptr: name.as_ptr().cast::<libc::c_char>().cast_mut(), slen: name.len() as _ };
        // SAFETY: rdata is live; the name is only read for the call; the result is NULL or a
        // NUL-terminated copy in the request's pool, valid for this callback.
        let value = unsafe { sys::ast_sip_rdata_get_header_value(self.rdata, name) };
        // SAFETY: as above.
        (!value.is_null()).then(|| unsafe { super::text_of(value) })
    }

    pub fn call_id(&self) -> Option<String> {
        // SAFETY: cid is NULL or the parsed Call-ID header in the request's pool.
        let cid = unsafe { self.rdata().msg_info.cid.as_ref() }?;
        // SAFETY: its value is a counted string in the same pool.
        Some(unsafe { pj_text(&cid.hvalue) })
    }

    pub fn cseq(&self) -> Option<u32> {
        // SAFETY: cseq is NULL or the parsed CSeq header in the request's pool.
        let cseq = unsafe { self.rdata().msg_info.cseq.as_ref() }?;
        u32::try_from(cseq.cseq).ok()
    }

    pub fn body(&self) -> Option<Body<'_>> {
        // SAFETY: body is NULL or the parsed body in the message's pool.
        let body = unsafe { self.msg()?.body.as_ref() }?;
        let data = if body.data.is_null() || body.len == 0 {
            &[][..]
        } else {
            // SAFETY: a parsed body's data points to `len` bytes of the request.
            unsafe { std::slice::from_raw_parts(body.data.cast::<u8>(), body.len as usize) }
        };
        Some(Body {
            // SAFETY: counted strings in the message's pool.
            media_type: unsafe { pj_text(&body.content_type.type_) },
            // SAFETY: as above.
            subtype: unsafe { pj_text(&body.content_type.subtype) },
            data,
        })
    }

    /// The request as received (start line, headers and body). Checked to lie inside the
    /// packet buffer, which also proves our view of pjsip_rx_data matches this pjsip: when it
    /// does not, this logs once and returns nothing rather than read a wrong address.
    pub fn raw(&self) -> &[u8] {
        let r = self.rdata();
        let packet = r.pkt_info.packet.as_ptr() as usize;
        let packet_len = usize::try_from(r.pkt_info.len).unwrap_or(0).min(r.pkt_info.packet.len());
        let start = r.msg_info.msg_buf as usize;
        let len = usize::try_from(r.msg_info.len).unwrap_or(usize::MAX);
        let inside = start >= packet
            && len <= packet_len
            && start.checked_add(len).is_some_and(|end| end <= packet + packet_len);
        if !inside {
            if !LAYOUT_WARNED.swap(true, Ordering::Relaxed) {
                ast_error!(
                    "pjsip_rx_data of this Asterisk does not match res_mwi_hub's pjproject declarations: \
                     Request-URI accounts are not read"
                );
            }
            return &[];
        }
        // SAFETY: checked above to lie inside the rdata's packet buffer, which lives for the
        // callback.
        unsafe { std::slice::from_raw_parts(start as *const u8, len) }
    }

    /// The endpoint res_pjsip identified the request as coming from.
    pub fn endpoint(&self) -> Option<SipEndpoint> {
        // SAFETY: rdata is live; the result is NULL or a reference we now own.
        unsafe { Ao2::from_owned(sys::ast_pjsip_rdata_get_endpoint(self.rdata)) }
            .map(|obj| SipEndpoint { obj })
    }

    /// Answers without a transaction (as res_pjsip_pubsub answers NOTIFYs). `reason` replaces
    /// the standard reason phrase; it must be one line of printable ASCII.
    pub fn respond(&self, status: u16, reason: Option<&str>) {
        let reason = reason
            .map(|r| sys::pj_str_t { ptr: r.as_ptr().cast::<libc::c_char>().cast_mut(), slen: r.len() as _ });
        let reason_ptr = reason.as_ref().map_or(std::ptr::null(), |r| r as *const sys::pj_str_t);
        // SAFETY: rdata is live; the reason is read during the call only; no extra headers or body.
        let status_code = unsafe {
            sys::pjsip_endpt_respond_stateless(
                sys::ast_sip_get_pjsip_endpoint(),
                self.rdata,
                libc::c_int::from(status),
                reason_ptr,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        if status_code != 0 {
            // Mostly a peer whose connection closed meanwhile: its business, not a fault here.
            ast_warning!("could not send a {status} answer (pjsip status {status_code}; the peer may have closed its connection)");
        }
        self.responded.set(true);
    }
}

/// A PJSIP endpoint (sorcery object of type "endpoint"), read by option name only: never
/// through `struct ast_sip_endpoint`, whose layout changes between Asterisk releases.
pub struct SipEndpoint {
    obj: Ao2<sys::ast_sip_endpoint>,
}

impl SipEndpoint {
    /// Its name in pjsip.conf.
    pub fn id(&self) -> String {
        // SAFETY: a live sorcery object (we hold a reference); its id lives as long as it.
        unsafe { super::text_of(sys::ast_sorcery_object_get_id(self.obj.as_ptr().cast())) }
    }

    /// The value of option `name` as pjsip.conf spells it ("" when unset), or None when
    /// sorcery has no such option.
    pub fn option(&self, name: &str) -> Option<String> {
        // SAFETY: a live endpoint of res_pjsip's sorcery instance (we hold a reference).
        let fields = unsafe { super::sorcery::objectset(self.obj.as_ptr().cast()) };
        fields.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The object's address: the same endpoint configuration while this value lives (a
    /// reloaded pjsip.conf makes new objects).
    pub fn identity(&self) -> usize {
        self.obj.as_ptr() as usize
    }
}
