//! Lock helpers: a poisoned lock (a panic elsewhere while holding it) is
//! used as is; the data it protects stays consistent at every unlock point.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Locks `m`, which the other thread holds only briefly: tries for a
/// while, spinning and then yielding, before sleeping in the kernel.
pub(crate) fn lock_busy<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    for round in 0u32..64 {
        match m.try_lock() {
            Ok(g) => return g,
            Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {}
        }
        if round < 8 {
            for _ in 0..(1u32 << round) {
                core::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
    }
    lock(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn busy_locking_excludes_and_survives_poisoning() {
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..3)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        *lock_busy(&m) += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock_busy(&m), 60_000);
        let m2 = Arc::clone(&m);
        let _ = std::thread::spawn(move || {
            let _g = lock_busy(&m2);
            panic!("poison the lock");
        })
        .join();
        assert!(m.is_poisoned());
        assert_eq!(*lock_busy(&m), 60_000);
    }
}
