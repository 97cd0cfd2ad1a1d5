//! Owned references to Asterisk's reference-counted objects (asterisk/astobj2.h).

use std::ptr::NonNull;

use super::sys;

/// One reference to an ao2 object of C type `T`, released on drop.
///
/// # Invariants
/// `ptr` points to a live ao2 object and this value owns one of its references.
pub struct Ao2<T> {
    ptr: NonNull<T>,
}

// SAFETY: ao2 reference counting is atomic and the objects we hold (stasis messages and
// containers, MWI publishers, sorcery objects) are immutable or internally locked, so a
// reference may move between threads.
unsafe impl<T> Send for Ao2<T> {}

impl<T> Ao2<T> {
    /// Takes ownership of a reference the caller received from Asterisk.
    ///
    /// # Safety
    /// `ptr` is NULL or an ao2 object whose reference the caller owns and hands over.
    pub unsafe fn from_owned(ptr: *mut T) -> Option<Self> {
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }
}

impl<T> Drop for Ao2<T> {
    fn drop(&mut self) {
        // SAFETY: by the invariant we own one reference to a live object; give it back.
        unsafe {
            sys::__ao2_ref(
                self.ptr.as_ptr().cast(),
                -1,
                c"res_mwi_hub".as_ptr(),
                c"ao2.rs".as_ptr(),
                line!() as libc::c_int,
                c"Ao2::drop".as_ptr(),
            )
        };
    }
}

/// Every object of an ao2 container, each as an owned reference.
pub fn container_items<T>(container: &Ao2<sys::ao2_container>) -> Vec<Ao2<T>> {
    let mut items = Vec::new();
    // SAFETY: the container is live (we hold a reference); flags 0 means a locking iterator.
    let mut iter = unsafe { sys::ao2_iterator_init(container.as_ptr(), 0) };
    loop {
        // SAFETY: iter was initialised above and is not yet destroyed; the returned object
        // carries a reference that we take ownership of.
        let next = unsafe {
            sys::__ao2_iterator_next(
                &mut iter,
                c"res_mwi_hub".as_ptr(),
                c"ao2.rs".as_ptr(),
                line!() as libc::c_int,
                c"container_items".as_ptr(),
            )
        };
        // SAFETY: see above: an owned reference, or NULL at the end.
        match unsafe { Ao2::from_owned(next.cast::<T>()) } {
            Some(item) => items.push(item),
            None => break,
        }
    }
    // SAFETY: iter was initialised by ao2_iterator_init and is destroyed exactly once.
    unsafe { sys::ao2_iterator_destroy(&mut iter) };
    items
}
