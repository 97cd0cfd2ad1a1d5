//! Threads of our own, created with pthread_create directly.
//!
//! `std::thread::spawn` touches per-thread state with a destructor on the *calling* thread
//! (its spawn hooks), and the caller here is an Asterisk thread (the loader, a CLI session):
//! that registers a destructor in our image on a thread we do not own, which pins the image
//! after `module unload` (a later `module load` would run the old code) and would crash when
//! that thread exits after the image is gone. A raw pthread avoids it; whatever std registers
//! on *our* thread runs when it exits, before [`OwnThread`]'s drop returns from the join.

use std::ffi::c_void;

use super::guard;

type Body = Box<dyn FnOnce() + Send + 'static>;

/// A running thread of ours, joined on drop.
///
/// # Invariants
/// `handle` is a joinable thread that nobody else joins or detaches.
pub struct OwnThread {
    handle: libc::pthread_t,
}

extern "C" fn thread_main(arg: *mut c_void) -> *mut c_void {
    // SAFETY: arg is the Box<Body> leaked by spawn for exactly this thread.
    let body = unsafe { Box::from_raw(arg.cast::<Body>()) };
    guard::entry_or("res_mwi_hub thread", (), body);
    std::ptr::null_mut()
}

impl OwnThread {
    /// Starts `body` on a new thread; Err with the errno if the thread could not be created.
    pub fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<Self, i32> {
        let boxed: Box<Body> = Box::new(Box::new(body));
        let arg = Box::into_raw(boxed);
        let mut handle: libc::pthread_t = 0;
        // SAFETY: thread_main takes ownership of arg; default attributes (joinable).
        let rc = unsafe { libc::pthread_create(&mut handle, std::ptr::null(), thread_main, arg.cast()) };
        if rc != 0 {
            // SAFETY: the thread was not created, so arg is still ours.
            drop(unsafe { Box::from_raw(arg) });
            return Err(rc);
        }
        let short: String = name.chars().take(15).collect();
        let cname = super::c_string(&short);
        // SAFETY: handle is a live thread; the name is at most 15 bytes plus NUL.
        unsafe { libc::pthread_setname_np(handle, cname.as_ptr()) };
        Ok(Self { handle })
    }
}

impl OwnThread {
    /// Whether the calling thread is this one.
    pub fn is_current(&self) -> bool {
        // SAFETY: pthread_self has no preconditions; pthread_equal compares two thread ids.
        unsafe { libc::pthread_equal(libc::pthread_self(), self.handle) != 0 }
    }
}

impl Drop for OwnThread {
    fn drop(&mut self) {
        // SAFETY: joinable and joined exactly once (invariant).
        unsafe { libc::pthread_join(self.handle, std::ptr::null_mut()) };
    }
}
