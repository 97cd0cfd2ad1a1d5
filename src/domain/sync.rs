//! The one poison-tolerant lock. A panic inside our code is caught by the entry guard, so a
//! mutex a panicking thread held is poisoned while the program goes on; every lock of ours
//! guards data whose each critical section leaves it consistent, so the data stays usable.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// Locks `m` even when a thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Waits on `cv`, taking the guard back even when the lock was poisoned meanwhile.
pub fn wait<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
    cv.wait(guard).unwrap_or_else(|p| p.into_inner())
}

/// Like [`wait`], for at most `timeout`.
pub fn wait_timeout<'a, T>(cv: &Condvar, guard: MutexGuard<'a, T>, timeout: Duration) -> MutexGuard<'a, T> {
    cv.wait_timeout(guard, timeout).unwrap_or_else(|p| p.into_inner()).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_is_still_usable() {
        let m = Mutex::new(1);
        // A scoped thread (this is a unit test: no Asterisk thread is involved).
        std::thread::scope(|s| {
            let _ = s
                .spawn(|| {
                    let _g = m.lock().unwrap();
                    panic!("poison it");
                })
                .join();
        });
        assert!(m.is_poisoned());
        *lock(&m) += 1;
        assert_eq!(*lock(&m), 2);
    }
}
