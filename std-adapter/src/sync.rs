//! Lock helpers: a poisoned lock (a panic elsewhere while holding it) is
//! used as is; the data it protects stays consistent at every unlock point.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `m`, ignoring poisoning.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
