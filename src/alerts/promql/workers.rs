//! Evaluating several expressions at once, one per core: the rules of a group that read nothing
//! the group writes do not depend on each other (Prometheus 3 evaluates such rules concurrently
//! too, with its `concurrent-rule-eval` feature), and a cycle over a big fleet is otherwise
//! bound to one core.

use std::cell::Cell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most threads one batch of expressions is evaluated on (Prometheus's
/// `--rules.max-concurrent-evals` defaults to 4 as well).
pub const MAX_WORKERS: usize = 4;

thread_local! {
    /// Whether this thread is one of a batch's workers.
    static ON_WORKER: Cell<bool> = const { Cell::new(false) };
}

/// The machine's cores.
pub(super) fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Whether this thread evaluates one of a batch's expressions beside the batch's other workers.
/// The workers keep every core busy already, so a worker reads its selections itself rather
/// than on more threads.
pub(super) fn on_worker() -> bool {
    ON_WORKER.with(Cell::get)
}

/// This thread marked a worker until dropped (by a panic too: a pooled thread that evaluated
/// a batch goes back to reading selections on several threads).
struct Worker {
    was: bool,
}

impl Worker {
    fn start() -> Worker {
        Worker {
            was: ON_WORKER.with(|w| w.replace(true)),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        ON_WORKER.with(|w| w.set(self.was));
    }
}

/// How many workers evaluate `n` items: one per core, at most [`MAX_WORKERS`], no more than `n`.
pub(super) fn count(n: usize) -> usize {
    cores().min(MAX_WORKERS).min(n)
}

/// `f` of each of `items`, answers in the items' order, evaluated on one thread per core (at
/// most [`MAX_WORKERS`], no more than there are items): each worker takes the next item not yet
/// taken. With one core, or one item, on this thread alone. A panic in a worker is resumed here.
pub(super) fn each<I: Sync, T: Send>(items: &[I], f: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let workers = count(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let _worker = Worker::start();
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else {
                break;
            };
            done.push((i, f(item)));
        }
        done
    };
    let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
        let others: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut done = work();
        for other in others {
            match other.join() {
                Ok(part) => done.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|&(i, _)| i);
    done.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every item is evaluated exactly once and the answers come back in the items' order,
    /// whatever thread computed them; the workers know they are workers, the caller's thread
    /// afterwards does not.
    #[test]
    fn each_item_once_in_order() {
        let calls = AtomicUsize::new(0);
        let items: Vec<usize> = (0..100).collect();
        let got = each(&items, |&i| {
            calls.fetch_add(1, Ordering::Relaxed);
            (i * 3, cores() < 2 || on_worker())
        });
        assert_eq!(calls.load(Ordering::Relaxed), 100);
        assert_eq!(got.len(), 100);
        for (i, (v, worker)) in got.into_iter().enumerate() {
            assert_eq!(v, i * 3);
            assert!(worker, "index {i} was evaluated off the workers");
        }
        assert!(!on_worker());
        assert!(each(&[] as &[usize], |&i| i).is_empty());
    }

    /// A panic in a worker reaches the caller, and leaves the caller's thread (a worker too,
    /// whose first item fails here) no worker.
    #[test]
    fn a_panic_reaches_the_caller_and_clears_the_mark() {
        let items: Vec<usize> = (0..8).collect();
        let caught =
            std::panic::catch_unwind(|| each(&items, |&i| -> usize { panic!("item {i} fails") }));
        assert!(caught.is_err());
        assert!(!on_worker());
    }
}
