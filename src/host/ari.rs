//! ARI REST resources (asterisk/ari.h): a two-level resource (`/<name>` and
//! `/<name>/{<variable>}`) registered with res_ari, which authenticates every request (ari.conf
//! users) before it dispatches to us.
//!
//! res_ari is optional. Our image binds every symbol it names at load, so naming res_ari's
//! functions would make res_mwi_hub unloadable without it: they are looked up at run time.
//! It is not among our loader dependencies either (the loader refuses to load a module whose
//! optional module declined), so nothing keeps res_ari loaded while we are registered: the
//! removal looks res_ari up again, and skips it when res_ari is gone (its root, which held our
//! tree, went with it).

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::guard;
use super::sys;

/// What one request carries that a resource reads.
pub struct AriRequest<'a> {
    /// The path variable (`{mailboxName}`), if the route has one.
    pub variable: Option<String>,
    /// Query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The JSON body, as text (None: no body).
    pub body: Option<String>,
    _call: PhantomData<&'a ()>,
}

/// A resource's answer.
pub enum AriAnswer {
    /// 200 with this JSON text.
    Json(String),
    /// 204.
    NoContent,
    /// An error: status, reason phrase, message (sent as {"message": ...}, as res_ari's own).
    Error { code: u16, reason: &'static CStr, message: String },
}

/// The routes of one resource. Each runs on an HTTP server thread, inside the guard and the
/// module's gate.
pub trait AriResource: 'static {
    /// The path segment (`c"mailboxes"`) and the name of its variable (`c"mailboxName"`).
    const SEGMENT: &'static CStr;
    const VARIABLE: &'static CStr;
    /// GET /<segment>
    fn list(request: &AriRequest<'_>) -> AriAnswer;
    /// GET /<segment>/{variable}
    fn get(request: &AriRequest<'_>) -> AriAnswer;
    /// PUT /<segment>/{variable}
    fn put(request: &AriRequest<'_>) -> AriAnswer;
    /// DELETE /<segment>/{variable}
    fn delete(request: &AriRequest<'_>) -> AriAnswer;
}

type AddHandler = unsafe extern "C" fn(*mut sys::stasis_rest_handlers) -> c_int;
type ResponseOk = unsafe extern "C" fn(*mut sys::ast_ari_response, *mut sys::ast_json);
type ResponseNoContent = unsafe extern "C" fn(*mut sys::ast_ari_response);
type ResponseError =
    unsafe extern "C" fn(*mut sys::ast_ari_response, c_int, *const c_char, *const c_char, ...);

/// res_ari's functions, as looked up.
#[derive(Clone, Copy)]
struct AriFunctions {
    add: AddHandler,
    remove: AddHandler,
    ok: ResponseOk,
    no_content: ResponseNoContent,
    error: ResponseError,
}

impl AriFunctions {
    fn find() -> Option<Self> {
        let [add, remove, ok, no_content, error] = super::module_symbols(
            "res_ari.so",
            [
                c"ast_ari_add_handler",
                c"ast_ari_remove_handler",
                c"ast_ari_response_ok",
                c"ast_ari_response_no_content",
                c"ast_ari_response_error",
            ],
        )?;
        // SAFETY: each address is res_ari's function of that name, whose C type (read on
        // branches 20 to 23, checked against asterisk-headers/ari.h by the conformance check)
        // is the one transmuted to.
        unsafe {
            Some(Self {
                add: std::mem::transmute::<*mut c_void, AddHandler>(add),
                remove: std::mem::transmute::<*mut c_void, AddHandler>(remove),
                ok: std::mem::transmute::<*mut c_void, ResponseOk>(ok),
                no_content: std::mem::transmute::<*mut c_void, ResponseNoContent>(no_content),
                error: std::mem::transmute::<*mut c_void, ResponseError>(error),
            })
        }
    }
}

/// The functions of the registration in force, for the callbacks (which get no user data).
static FUNCTIONS: std::sync::Mutex<Option<AriFunctions>> = std::sync::Mutex::new(None);

fn functions() -> Option<AriFunctions> {
    *crate::domain::sync::lock(&FUNCTIONS)
}

/// Why no registration was made.
#[derive(Debug, PartialEq, Eq)]
pub enum AriUnavailable {
    /// res_ari is not running (not loaded, or it declined).
    NotLoaded,
    /// res_ari_mailboxes serves the routes itself.
    Taken,
    /// res_ari's functions were not found, or it refused the handler.
    Failed(String),
}

/// A parent segment with room for one child, laid out as res_ari reads
/// `struct stasis_rest_handlers` and its flexible `children[]`.
#[repr(C)]
struct ParentHandlers {
    head: sys::stasis_rest_handlers,
    child: [*mut sys::stasis_rest_handlers; 1],
}

/// The registered resource; dropping it removes it from res_ari.
pub struct AriRegistration {
    parent: *mut ParentHandlers,
    child: *mut sys::stasis_rest_handlers,
}

// SAFETY: the handler structures are only read by res_ari's threads and freed once removed.
unsafe impl Send for AriRegistration {}
// SAFETY: as above; no method takes &self to mutate.
unsafe impl Sync for AriRegistration {}

/// A zeroed segment handler (no callbacks, no children).
fn segment(path: &'static CStr, wildcard: bool) -> sys::stasis_rest_handlers {
    // SAFETY: all-zero is a valid value for every field (NULL pointers, no callbacks, 0 children).
    let mut h: sys::stasis_rest_handlers = unsafe { std::mem::zeroed() };
    h.path_segment = path.as_ptr();
    h.is_wildcard = c_int::from(wildcard);
    h
}

impl AriRegistration {
    /// Registers `R` when res_ari runs (and res_ari_mailboxes does not), while the loader
    /// cannot unload res_ari.
    pub fn register<R: AriResource>() -> Result<Self, AriUnavailable> {
        super::module::while_running("res_ari.so", Self::register_now::<R>)
            .unwrap_or(Err(AriUnavailable::NotLoaded))
    }

    fn register_now<R: AriResource>() -> Result<Self, AriUnavailable> {
        if super::module::is_running("res_ari_mailboxes.so") {
            return Err(AriUnavailable::Taken);
        }
        let functions = AriFunctions::find()
            .ok_or_else(|| AriUnavailable::Failed("res_ari's handler functions were not found".into()))?;
        let mut child = segment(R::VARIABLE, true);
        child.callbacks[sys::AST_HTTP_GET as usize] = Some(get_cb::<R>);
        child.callbacks[sys::AST_HTTP_PUT as usize] = Some(put_cb::<R>);
        child.callbacks[sys::AST_HTTP_DELETE as usize] = Some(delete_cb::<R>);
        let child = Box::into_raw(Box::new(child));
        let mut head = segment(R::SEGMENT, false);
        head.callbacks[sys::AST_HTTP_GET as usize] = Some(list_cb::<R>);
        head.num_children = 1;
        let parent = Box::into_raw(Box::new(ParentHandlers { head, child: [child] }));
        *crate::domain::sync::lock(&FUNCTIONS) = Some(functions);
        REGISTRATIONS.fetch_add(1, Ordering::SeqCst);
        let this = Self { parent, child };
        // SAFETY: a complete handler tree that stays allocated until after its removal.
        if unsafe { (functions.add)(parent.cast()) } != 0 {
            // Drop would remove what was never added: free by hand.
            let this = std::mem::ManuallyDrop::new(this);
            // SAFETY: never handed to res_ari; allocated above with Box.
            unsafe {
                drop(Box::from_raw(this.parent));
                drop(Box::from_raw(this.child));
            }
            forget_functions();
            return Err(AriUnavailable::Failed("res_ari refused the handler".into()));
        }
        Ok(this)
    }
}

/// How long a request that took res_ari's handler tree just before the removal may still be
/// walking it (it holds no lock or reference on our part of it): far longer than that walk.
const REMOVAL_GRACE: Duration = Duration::from_millis(200);

impl Drop for AriRegistration {
    fn drop(&mut self) {
        // res_ari may have been unloaded (and loaded again, at another address) since: only a
        // running res_ari, looked up now, is asked to remove the tree, while it cannot go.
        super::module::while_running("res_ari.so", || {
            if let Some(functions) = AriFunctions::find() {
                // SAFETY: the tree added in register; res_ari copies its root without it (a
                // root that never held it, after a reload of res_ari, is copied unchanged).
                unsafe { (functions.remove)(self.parent.cast()) };
            }
        });
        std::thread::sleep(REMOVAL_GRACE);
        // SAFETY: no longer reachable from res_ari's root; a walk begun before the removal
        // ended within the grace (and a callback it reached is held off by the gate).
        unsafe {
            drop(Box::from_raw(self.parent));
            drop(Box::from_raw(self.child));
        }
        forget_functions();
    }
}

/// Registrations made and not yet removed: a reload adds the new one before it removes the old
/// (so requests always find one), and the callbacks' functions stay until the last goes.
static REGISTRATIONS: AtomicUsize = AtomicUsize::new(0);

fn forget_functions() {
    if REGISTRATIONS.fetch_sub(1, Ordering::SeqCst) == 1 {
        *crate::domain::sync::lock(&FUNCTIONS) = None;
    }
}

/// Whether a registration is in force (for `mwi show status`).
pub fn serving() -> bool {
    functions().is_some()
}

/// The (name, value) pairs of an ast_variable list.
///
/// # Safety
/// `list` is NULL or a valid list for the duration of the call.
unsafe fn pairs(mut list: *mut sys::ast_variable) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while !list.is_null() {
        // SAFETY: a live list node (caller's promise); its strings are NUL-terminated.
        unsafe {
            out.push((super::text_of((*list).name), super::text_of((*list).value)));
            list = (*list).next;
        }
    }
    out
}

/// The body as JSON text.
///
/// # Safety
/// `body` is NULL or a live ast_json.
unsafe fn body_text(body: *mut sys::ast_json) -> Option<String> {
    if body.is_null() {
        return None;
    }
    // SAFETY: a live JSON value; the string returned is ours to free with ast_json_free.
    let text = unsafe { sys::ast_json_dump_string_format(body, sys::AST_JSON_COMPACT) };
    if text.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated, freed right after.
    let out = unsafe { super::text_of(text) };
    // SAFETY: allocated by ast_json_dump_string_format.
    unsafe { sys::ast_json_free(text.cast()) };
    Some(out)
}

/// Writes `answer` into `response`.
///
/// # Safety
/// `response` is the live response of the request being answered.
unsafe fn respond(functions: AriFunctions, response: *mut sys::ast_ari_response, answer: AriAnswer) {
    match answer {
        AriAnswer::Json(text) => {
            let text = super::c_string(&text);
            // SAFETY: a NUL-terminated JSON text; a new reference (or NULL) comes back.
            let json = unsafe { sys::ast_json_load_string(text.as_ptr(), std::ptr::null_mut()) };
            if json.is_null() {
                let answer = AriAnswer::Error {
                    code: 500,
                    reason: c"Internal Server Error",
                    message: "Error building response".into(),
                };
                // SAFETY: as above.
                return unsafe { respond(functions, response, answer) };
            }
            // SAFETY: ast_ari_response_ok takes the reference.
            unsafe { (functions.ok)(response, json) };
        }
        // SAFETY: the live response.
        AriAnswer::NoContent => unsafe { (functions.no_content)(response) },
        AriAnswer::Error { code, reason, message } => {
            let message = CString::new(message.replace('\0', "?")).unwrap_or_default();
            // SAFETY: a "%s" format with one C string argument; reason is 'static, as res_ari
            // keeps the pointer.
            unsafe {
                (functions.error)(
                    response,
                    c_int::from(code),
                    reason.as_ptr(),
                    c"%s".as_ptr(),
                    message.as_ptr(),
                )
            };
        }
    }
}

/// The body of every callback: reads the request, runs `route` in the gate, answers.
///
/// # Safety
/// The arguments are res_ari's for the request being answered.
unsafe fn handle(
    name: &'static str,
    get_params: *mut sys::ast_variable,
    path_vars: *mut sys::ast_variable,
    body: *mut sys::ast_json,
    response: *mut sys::ast_ari_response,
    route: fn(&AriRequest<'_>) -> AriAnswer,
) {
    guard::gated(
        name,
        (),
        |why| {
            if let Some(f) = functions() {
                let answer = match why {
                    guard::NotRun::Unloading => AriAnswer::Error {
                        code: 503,
                        reason: c"Service Unavailable",
                        message: "res_mwi_hub is unloading".into(),
                    },
                    guard::NotRun::Panicked => AriAnswer::Error {
                        code: 500,
                        reason: c"Internal Server Error",
                        message: "res_mwi_hub failed on this request (see the Asterisk log)".into(),
                    },
                };
                // SAFETY: the live response (caller's promise).
                unsafe { respond(f, response, answer) };
            }
        },
        || {
            let Some(f) = functions() else { return };
            // SAFETY: res_ari's lists and body for this request (caller's promise).
            let request = unsafe {
                AriRequest {
                    variable: pairs(path_vars).into_iter().next().map(|(_, v)| v),
                    query: pairs(get_params),
                    body: body_text(body),
                    _call: PhantomData,
                }
            };
            let answer = route(&request);
            // SAFETY: as above.
            unsafe { respond(f, response, answer) };
        },
    );
}

macro_rules! callback {
    ($name:ident, $route:ident, $label:literal) => {
        unsafe extern "C" fn $name<R: AriResource>(
            _ser: *mut sys::ast_tcptls_session_instance,
            get_params: *mut sys::ast_variable,
            path_vars: *mut sys::ast_variable,
            _headers: *mut sys::ast_variable,
            body: *mut sys::ast_json,
            response: *mut sys::ast_ari_response,
        ) {
            // SAFETY: res_ari's arguments for this request.
            unsafe { handle($label, get_params, path_vars, body, response, R::$route) }
        }
    };
}

callback!(list_cb, list, "ARI GET (list)");
callback!(get_cb, get, "ARI GET (one)");
callback!(put_cb, put, "ARI PUT");
callback!(delete_cb, delete, "ARI DELETE");
