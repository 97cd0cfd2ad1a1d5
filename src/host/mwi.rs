//! MWI state on Asterisk's message bus (asterisk/mwi.h, asterisk/stasis.h).
//!
//! Publish with urgent counts, delete a cache entry, read one or all cached states, and
//! subscribe to every state change with a Rust callback receiving owned, typed data.

use std::ffi::c_void;
use std::fmt;

use super::ao2::{container_items, Ao2};
use super::guard;
use super::sys;
use crate::domain::counts::{CountKind, MwiCounts, MAX_PUBLISHABLE_COUNT};
use crate::domain::state::MwiState;

/// Why a publish or delete did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MwiError {
    /// A count above what Asterisk's `int` counts hold; nothing was published.
    CountOutOfRange { kind: CountKind, value: u32 },
    /// Asterisk refused (allocation failure or MWI core not running).
    HostRefused,
}

impl fmt::Display for MwiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CountOutOfRange { kind, value } => write!(
                f,
                "the {kind} count {value} is larger than {MAX_PUBLISHABLE_COUNT}, the most Asterisk's MWI state can hold"
            ),
            Self::HostRefused => write!(f, "Asterisk refused the MWI update (see its log)"),
        }
    }
}

/// Publishes `counts` for the mailbox whose stasis id is `key` (`1000@default`, or any id kept
/// verbatim) on the MWI topic; the cache is updated before this returns.
pub fn publish(key: &str, counts: MwiCounts) -> Result<(), MwiError> {
    // The whole id as the mailbox and no context: Asterisk then uses it verbatim as the
    // unique id, exactly as res_mwi_external publishes.
    let id = super::c_string(key);
    publish_with(key, counts, |urgent, new, old| {
        // SAFETY: the id is NUL-terminated and alive for the call; no channel; NULL eid means
        // this server.
        unsafe {
            sys::ast_mwi_publish_by_mailbox(
                id.as_ptr(),
                std::ptr::null(),
                urgent,
                new,
                old,
                std::ptr::null(),
                std::ptr::null_mut(),
            )
        }
    })
}

/// Publishes `counts` for `key` straight on Asterisk's all-mailboxes MWI topic, as a voicemail
/// module did before Asterisk 17 added per-mailbox states: the MWI cache, AMI's MessageWaiting
/// events and res_mwi_devstate see it, and no per-mailbox state is created. Creating one costs
/// Asterisk O(states) (57 hash buckets) and about 1 KB per mailbox, for nobody when no module
/// watches the mailbox; a module that starts watching it later gets its state through
/// [`publish`] from our subscribe observer. Only for mailboxes no module watches: their
/// per-mailbox subscribers would not see it.
pub fn publish_unwatched(key: &str, counts: MwiCounts) -> Result<(), MwiError> {
    let id = super::c_string(key);
    publish_with(key, counts, |urgent, new, old| match state_message(&id, urgent, new, old) {
        Some(msg) => {
            // SAFETY: the topic is an Asterisk global; msg is a live message we hold a
            // reference to for the call (stasis takes its own).
            unsafe { sys::stasis_publish(sys::ast_mwi_topic_all(), msg.as_ptr()) };
            0
        }
        None => -1,
    })
}

/// Clears this server's cached state of `key` through the all-mailboxes topic: what
/// `ast_delete_mwi_state` does for a mailbox that has a per-mailbox state, for one published by
/// [`publish_unwatched`] (Asterisk's delete finds no state for it and clears nothing).
pub fn clear_unwatched(key: &str) -> Result<(), MwiError> {
    let id = super::c_string(key);
    let msg = state_message(&id, 0, 0, 0).ok_or(MwiError::HostRefused)?;
    // SAFETY: msg is a live MWI state message; the clear message returned is ours to release.
    let clear = unsafe { Ao2::from_owned(sys::stasis_cache_clear_create(msg.as_ptr())) }
        .ok_or(MwiError::HostRefused)?;
    // SAFETY: the topic is an Asterisk global; clear is live for the call.
    unsafe { sys::stasis_publish(sys::ast_mwi_topic_all(), clear.as_ptr()) };
    Ok(())
}

/// An MWI state message for `id` with these counts, from this server, as Asterisk's own
/// publish builds it (`mwi_state_create_message`); None if Asterisk refused.
fn state_message(
    id: &std::ffi::CStr,
    urgent: libc::c_int,
    new: libc::c_int,
    old: libc::c_int,
) -> Option<Ao2<sys::stasis_message>> {
    let ty = state_type();
    if ty.is_null() {
        return None;
    }
    // SAFETY: NUL-terminated id alive for the call; NULL context keeps it verbatim as the
    // unique id. The state returned carries a reference we own.
    let state = unsafe { Ao2::from_owned(sys::ast_mwi_create(id.as_ptr(), std::ptr::null())) }?;
    // SAFETY: a fresh object nobody else references yet (refcount 1, ours): writing its plain
    // fields before it is wrapped in a message is what Asterisk's own constructor does.
    unsafe {
        let s = state.as_ptr();
        (*s).urgent_msgs = urgent;
        (*s).new_msgs = new;
        (*s).old_msgs = old;
        (*s).eid = std::ptr::addr_of!(sys::ast_eid_default).read();
    }
    // SAFETY: type and data are live; the message takes its own reference to the state and
    // returns one we own; the eid is a global.
    unsafe {
        Ao2::from_owned(sys::stasis_message_create_full(
            ty,
            state.as_ptr().cast(),
            std::ptr::addr_of!(sys::ast_eid_default),
        ))
    }
}

/// What every publish does around the call into Asterisk: refuse counts a C int cannot hold,
/// hand `call` the urgent, new and old counts (Asterisk's argument order), log at debug level.
fn publish_with(
    key: &str,
    counts: MwiCounts,
    call: impl FnOnce(libc::c_int, libc::c_int, libc::c_int) -> libc::c_int,
) -> Result<(), MwiError> {
    if let Some((kind, value)) = counts.first_unpublishable() {
        return Err(MwiError::CountOutOfRange { kind, value });
    }
    // The casts are exact: every count is at most MAX_PUBLISHABLE_COUNT (checked above).
    if call(counts.urgent as libc::c_int, counts.new as libc::c_int, counts.old as libc::c_int) != 0 {
        return Err(MwiError::HostRefused);
    }
    super::log::ast_debug!(
        1,
        "MWI published for {key}: new {} old {} urgent {}",
        counts.new,
        counts.old,
        counts.urgent
    );
    Ok(())
}

/// This server's publisher for one mailbox. Asterisk finds a mailbox's state among all MWI
/// states in a 57-bucket hash, so [`publish`] costs O(states): 135 us of CPU per publish at
/// 100,000 states on the sandbox, against 14 us through a publisher held for the mailbox.
/// Dropping it releases Asterisk's publisher object.
pub struct MwiPublisher {
    publisher: Ao2<sys::ast_mwi_publisher>,
}

impl MwiPublisher {
    /// A publisher for the mailbox whose stasis id is `key` (the id kept verbatim, as
    /// [`publish`] uses it).
    pub fn add(key: &str) -> Option<Self> {
        let id = super::c_string(key);
        // SAFETY: NUL-terminated id alive for the call; the result is NULL or a reference we own.
        unsafe { Ao2::from_owned(sys::ast_mwi_add_publisher(id.as_ptr())) }
            .map(|publisher| Self { publisher })
    }

    /// Publishes `counts` for this publisher's mailbox, exactly as [`publish`] does.
    pub fn publish(&self, key: &str, counts: MwiCounts) -> Result<(), MwiError> {
        publish_with(key, counts, |urgent, new, old| {
            // SAFETY: a live publisher (we hold a reference); no channel; NULL eid means this
            // server.
            unsafe {
                sys::ast_mwi_publish(
                    self.publisher.as_ptr(),
                    urgent,
                    new,
                    old,
                    std::ptr::null(),
                    std::ptr::null_mut(),
                )
            }
        })
    }
}

/// Clears this server's cached state of `key`, as `ast_delete_mwi_state` does; false when
/// nothing was cached.
pub fn delete(key: &str) -> bool {
    let id = super::c_string(key);
    // SAFETY: NUL-terminated id alive for the call; no context (verbatim id); NULL eid means
    // this server. Returns -1 when nothing was cached (the state is removed all the same).
    unsafe { sys::ast_delete_mwi_state_full(id.as_ptr(), std::ptr::null(), std::ptr::null_mut()) == 0 }
}

fn eid_text(eid: &sys::ast_eid) -> String {
    let b = eid.eid;
    format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
}

/// Copies the payload of an MWI state message into Rust.
///
/// # Safety
/// `msg` is a live stasis message whose type is `ast_mwi_state_type()`.
unsafe fn state_of(msg: *mut sys::stasis_message) -> Option<MwiState> {
    // SAFETY: msg is live (caller); its data is a struct ast_mwi_state owned by the message.
    let data = unsafe { sys::stasis_message_data(msg) }.cast::<sys::ast_mwi_state>();
    if data.is_null() {
        return None;
    }
    // SAFETY: data is non-NULL and lives as long as msg; fields are read, never written.
    let s = unsafe { &*data };
    // SAFETY: ast_eid_default is a global initialised at Asterisk start and never freed.
    let local = unsafe { std::ptr::addr_of!(sys::ast_eid_default).read() };
    let eid = s.eid;
    Some(MwiState {
        // SAFETY: uniqueid is a NUL-terminated string field of the state, alive with msg.
        uniqueid: unsafe { super::text_of(s.uniqueid) },
        new: s.new_msgs,
        old: s.old_msgs,
        urgent: s.urgent_msgs,
        eid: eid_text(&eid),
        local: { eid.eid } == { local.eid },
    })
}

fn state_type() -> *mut sys::stasis_message_type {
    // SAFETY: plain getter of a type registered at Asterisk start (NULL only if MWI is off).
    unsafe { sys::ast_mwi_state_type() }
}

/// The cached state of the mailbox with stasis id `uniqueid` on this server, if any.
pub fn cached_state(uniqueid: &str) -> Option<MwiState> {
    let id = super::c_string(uniqueid);
    let ty = state_type();
    if ty.is_null() {
        return None;
    }
    // SAFETY: cache and type are Asterisk globals; id is NUL-terminated. The message returned
    // carries a reference we own.
    let msg = unsafe { Ao2::from_owned(sys::stasis_cache_get(sys::ast_mwi_state_cache(), ty, id.as_ptr())) }?;
    // SAFETY: the cache only holds messages of the type we asked for.
    unsafe { state_of(msg.as_ptr()) }
}

/// Every cached MWI state, from every server (entity).
pub fn cached_states() -> Vec<MwiState> {
    let ty = state_type();
    if ty.is_null() {
        return Vec::new();
    }
    // SAFETY: cache and type are Asterisk globals; the container returned is ours to release.
    let Some(dump) = (unsafe { Ao2::from_owned(sys::stasis_cache_dump_all(sys::ast_mwi_state_cache(), ty)) })
    else {
        return Vec::new();
    };
    container_items::<sys::stasis_message>(&dump)
        .iter()
        // SAFETY: every item is a live message of the MWI state type (the dump was filtered by it).
        .filter_map(|m| unsafe { state_of(m.as_ptr()) })
        .collect()
}

/// The callback of an [`MwiSubscription`]: runs on an Asterisk-owned stasis thread, one
/// message at a time.
#[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
pub type StateCallback = Box<dyn Fn(MwiState) + Send + Sync>;

/// A subscription to every MWI state change (the `mwi:all` topic). Used by the test build's
/// watcher today; the incoming-NOTIFY ordering and outbound subscriptions build on it.
///
/// # Invariants
/// `sub` is a live subscription whose callback data is `callback`'s heap address; the box is
/// freed only after `stasis_unsubscribe_and_join` has returned, so no callback can see it freed.
#[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
pub struct MwiSubscription {
    sub: *mut sys::stasis_subscription,
    callback: *mut StateCallback,
}

// SAFETY: the raw pointers are only used in Drop, and stasis subscriptions may be
// unsubscribed from any thread.
unsafe impl Send for MwiSubscription {}

#[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
extern "C" fn on_mwi_message(
    data: *mut c_void,
    _sub: *mut sys::stasis_subscription,
    msg: *mut sys::stasis_message,
) {
    guard::gated_or("mwi subscription callback", (), || {
        // SAFETY: msg is live for the duration of the callback (stasis holds a reference).
        if unsafe { sys::stasis_message_type(msg) } != state_type() {
            return; // subscription-change and cache-clear messages share the topic
        }
        // SAFETY: the type was checked just above.
        let Some(state) = (unsafe { state_of(msg) }) else { return };
        // SAFETY: data is the callback box, alive until after unsubscribe_and_join (invariant).
        let callback = unsafe { &*data.cast::<StateCallback>() };
        callback(state);
    });
}

#[cfg_attr(not(feature = "test-hooks"), allow(dead_code))]
impl MwiSubscription {
    /// Subscribes `callback` to every MWI state change; `None` if Asterisk refused.
    pub fn subscribe(callback: StateCallback) -> Option<Self> {
        let callback = Box::into_raw(Box::new(callback));
        // SAFETY: the topic is an Asterisk global; on_mwi_message is guarded and matches
        // stasis_subscription_cb; the data pointer stays valid until Drop (invariant).
        let sub = unsafe {
            sys::__stasis_subscribe(
                sys::ast_mwi_topic_all(),
                Some(on_mwi_message),
                callback.cast(),
                c"host/mwi.rs".as_ptr(),
                line!() as libc::c_int,
                c"MwiSubscription::subscribe".as_ptr(),
            )
        };
        if sub.is_null() {
            // SAFETY: never handed to Asterisk successfully: we still own the box.
            drop(unsafe { Box::from_raw(callback) });
            return None;
        }
        // Only state messages need to reach us; the others are filtered out by stasis.
        // SAFETY: sub is live; the type is an Asterisk global.
        unsafe {
            sys::stasis_subscription_accept_message_type(sub, state_type());
            sys::stasis_subscription_set_filter(sub, sys::STASIS_SUBSCRIPTION_FILTER_SELECTIVE);
        }
        Some(Self { sub, callback })
    }
}

impl Drop for MwiSubscription {
    fn drop(&mut self) {
        // SAFETY: sub is live (invariant); this returns after the final message was handled,
        // so no callback runs after it.
        unsafe { sys::stasis_unsubscribe_and_join(self.sub) };
        // SAFETY: the box came from Box::into_raw in subscribe, and no callback can use it now.
        drop(unsafe { Box::from_raw(self.callback) });
    }
}

/// Told when another module starts watching a mailbox's MWI (res_pjsip_mwi for a phone's
/// `mailboxes=`, app_voicemail, ...).
pub trait MwiObserver: 'static {
    /// Runs on the subscribing module's thread, before its subscription is complete: publishing
    /// here puts the state in the cache that the subscriber then reads.
    fn on_subscribe(mailbox: &str);
}

extern "C" fn on_subscribe_trampoline<O: MwiObserver>(
    mailbox: *const libc::c_char,
    _sub: *mut sys::ast_mwi_subscriber,
) {
    guard::gated_or("MWI observer", (), || {
        // SAFETY: Asterisk passes the subscribed mailbox id, NUL-terminated, for the call.
        let mailbox = unsafe { super::text_of(mailbox) };
        O::on_subscribe(&mailbox);
    });
}

/// A registered observer; removed on drop.
///
/// # Invariants
/// `observer` is registered with Asterisk, which keeps its address until removal; removal
/// waits for callbacks in progress (they hold the observer list's read lock).
pub struct MwiObserverRegistration {
    observer: Box<sys::ast_mwi_observer>,
}

// SAFETY: the boxed table is only read by Asterisk and freed after removal.
unsafe impl Send for MwiObserverRegistration {}

impl MwiObserverRegistration {
    pub fn register<O: MwiObserver>() -> Option<Self> {
        let mut observer = Box::new(sys::ast_mwi_observer {
            on_subscribe: Some(on_subscribe_trampoline::<O>),
            on_unsubscribe: None,
        });
        // SAFETY: the table lives on the heap until Drop removes it; the callback is guarded.
        if unsafe { sys::ast_mwi_add_observer(&mut *observer) } != 0 {
            return None;
        }
        Some(Self { observer })
    }
}

impl Drop for MwiObserverRegistration {
    fn drop(&mut self) {
        // SAFETY: registered (invariant); after this returns Asterisk no longer uses the table.
        unsafe { sys::ast_mwi_remove_observer(&mut *self.observer) };
    }
}

extern "C" fn collect_subscribed(state: *mut sys::ast_mwi_state, data: *mut c_void) -> libc::c_int {
    guard::gated_or("MWI subscribed-state callback", 1, || {
        if state.is_null() || data.is_null() {
            return 0;
        }
        // SAFETY: data is the Vec passed by subscribed_mailboxes for the duration of the call;
        // state is live for the callback and its uniqueid NUL-terminated.
        unsafe {
            let ids = &mut *data.cast::<Vec<String>>();
            ids.push(super::text_of((*state).uniqueid));
        }
        0
    })
}

/// The ids of every mailbox some module watches (has at least one subscriber) right now.
pub fn subscribed_mailboxes() -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    // SAFETY: the callback only appends to `ids`, which outlives the call (it is synchronous).
    unsafe {
        sys::ast_mwi_state_callback_subscribed(
            Some(collect_subscribed),
            (&mut ids as *mut Vec<String>).cast(),
        )
    };
    ids
}
