//! A small blocking connection pool shared by the backends: at most `max` connections, opened
//! on demand, handed out one at a time and returned when the borrower is done. Callers run on
//! tokio's blocking threads, so waiting here never stalls the async workers.

use super::StoreError;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// Opens one new connection.
pub(super) type Opener<C> = Box<dyn Fn() -> Result<C, StoreError> + Send + Sync>;

/// Connections of type `C`.
pub(super) struct Pool<C> {
    open: Opener<C>,
    max: usize,
    wait: Duration,
    /// Idle connections, and how many exist (idle or lent).
    state: Mutex<(Vec<C>, usize)>,
    returned: Condvar,
}

/// A connection lent by a [`Pool`]; it goes back on drop unless [`Lent::discard`]ed.
pub(super) struct Lent<'p, C> {
    pool: &'p Pool<C>,
    connection: Option<C>,
}

impl<C> Pool<C> {
    /// A pool of at most `max` connections; a borrower waits at most `wait` for one.
    pub(super) fn new(max: usize, wait: Duration, open: Opener<C>) -> Self {
        Pool {
            open,
            max: max.max(1),
            wait,
            state: Mutex::new((Vec::new(), 0)),
            returned: Condvar::new(),
        }
    }

    /// An idle connection, a new one while fewer than `max` exist, or the first one returned.
    pub(super) fn take(&self) -> Result<Lent<'_, C>, StoreError> {
        let mut state = self.state.lock().map_err(|_| poisoned())?;
        loop {
            if let Some(connection) = state.0.pop() {
                return Ok(self.lend(connection));
            }
            if state.1 < self.max {
                state.1 += 1;
                drop(state);
                return match (self.open)() {
                    Ok(connection) => Ok(self.lend(connection)),
                    Err(error) => {
                        self.forget_one();
                        Err(error)
                    }
                };
            }
            let (next, timeout) = self
                .returned
                .wait_timeout(state, self.wait)
                .map_err(|_| poisoned())?;
            state = next;
            if timeout.timed_out() && state.0.is_empty() && state.1 >= self.max {
                return Err(StoreError::Busy(format!(
                    "all {} store connections stayed busy for {} ms",
                    self.max,
                    self.wait.as_millis()
                )));
            }
        }
    }

    /// Open, idle and most connections.
    pub(super) fn stats(&self) -> crate::metrics::PoolStats {
        let (open, idle) = self
            .state
            .lock()
            .map_or((0, 0), |state| (state.1, state.0.len()));
        crate::metrics::PoolStats {
            open,
            idle,
            max: self.max,
        }
    }

    /// Takes every idle connection out of the pool (to close them where the caller chooses).
    pub(super) fn drain_idle(&self) -> Vec<C> {
        match self.state.lock() {
            Ok(mut state) => {
                let idle = std::mem::take(&mut state.0);
                state.1 = state.1.saturating_sub(idle.len());
                idle
            }
            Err(_) => Vec::new(),
        }
    }

    fn lend(&self, connection: C) -> Lent<'_, C> {
        Lent {
            pool: self,
            connection: Some(connection),
        }
    }

    fn forget_one(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = state.1.saturating_sub(1);
            self.returned.notify_one();
        }
    }
}

impl<C> Lent<'_, C> {
    /// The connection.
    pub(super) fn get(&mut self) -> Result<&mut C, StoreError> {
        self.connection
            .as_mut()
            .ok_or_else(|| StoreError::Backend("connection already discarded".into()))
    }

    /// Closes the connection instead of returning it (it broke); the pool may open another.
    pub(super) fn discard(mut self) {
        self.connection = None;
        self.pool.forget_one();
    }
}

impl<C> Drop for Lent<'_, C> {
    fn drop(&mut self) {
        if let Some(connection) = self.connection.take() {
            if let Ok(mut state) = self.pool.state.lock() {
                state.0.push(connection);
                self.pool.returned.notify_one();
            }
        }
    }
}

/// Runs a blocking store job on tokio's blocking pool.
pub(super) async fn run_blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|error| StoreError::Backend(format!("store task failed: {error}")))?
}

fn poisoned() -> StoreError {
    StoreError::Backend("a store lock was poisoned by an earlier panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    fn counting_pool(max: usize, wait_ms: u64) -> (Pool<usize>, Arc<AtomicUsize>) {
        let opened = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&opened);
        let pool = Pool::new(
            max,
            Duration::from_millis(wait_ms),
            Box::new(move || Ok(counter.fetch_add(1, Ordering::SeqCst))),
        );
        (pool, opened)
    }

    #[test]
    fn reuses_returned_connections() {
        let (pool, opened) = counting_pool(2, 10);
        {
            let mut first = pool.take().unwrap();
            assert_eq!(*first.get().unwrap(), 0);
        }
        let mut again = pool.take().unwrap();
        assert_eq!(*again.get().unwrap(), 0);
        assert_eq!(opened.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_full_pool_reports_busy_after_the_wait() {
        let (pool, _) = counting_pool(1, 20);
        let _held = pool.take().unwrap();
        assert!(matches!(pool.take(), Err(StoreError::Busy(_))));
    }

    #[test]
    fn a_discarded_connection_frees_its_slot() {
        let (pool, opened) = counting_pool(1, 20);
        pool.take().unwrap().discard();
        let mut next = pool.take().unwrap();
        assert_eq!(*next.get().unwrap(), 1);
        assert_eq!(opened.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_open_frees_its_slot() {
        let pool: Pool<usize> = Pool::new(
            1,
            Duration::from_millis(20),
            Box::new(|| Err(StoreError::Backend("refused".into()))),
        );
        assert!(matches!(pool.take(), Err(StoreError::Backend(_))));
        assert!(matches!(pool.take(), Err(StoreError::Backend(_))));
    }
}
