//! A cluster's connection state, folded from what its watchers and its `/version` poller report.
//! Pure: the cluster's supervisor task feeds it and sends whatever it says changed.

#[cfg(test)]
mod tests;

use jiff::Timestamp;

use super::ConnState;
use super::error::Failure;

/// One reporter: a watcher (one kind in one scope) or the version poller.
#[derive(Clone, Debug, Default)]
struct Source {
    /// Its (re)list has completed and it is watching.
    listed: bool,
    /// Its last attempt failed, and when it will retry; with the order it was reported in.
    failure: Option<(u64, Failure, Timestamp)>,
}

/// Folds reports into a [`ConnState`].
///
/// - Unreachable while any source has a network failure, since the first failure of the outage.
/// - Degraded while any source has an API failure (and none a network one).
/// - Synced once every watcher has listed since its last failure. A failed watcher is rebuilt and
///   relists, so "back to synced" always means "the data is whole again".
/// - Connecting until the first sync. A relist after that (say, after a 410 Gone) with no failure
///   changes nothing on screen: the old rows stay until the new list replaces them.
#[derive(Debug)]
pub struct ConnTracker {
    sources: Vec<Source>,
    seq: u64,
    outage_since: Option<Timestamp>,
    synced_once: bool,
    shown: ConnState,
}

impl ConnTracker {
    /// `watchers` watchers (ids `0..watchers`) and one poller (id [`ConnTracker::poller`]), which
    /// has nothing to list.
    pub fn new(watchers: usize) -> Self {
        let mut sources = vec![Source::default(); watchers + 1];
        sources[watchers].listed = true;
        Self {
            sources,
            seq: 0,
            outage_since: None,
            synced_once: false,
            shown: ConnState::Connecting,
        }
    }

    pub fn poller(&self) -> usize {
        self.sources.len() - 1
    }

    /// The state last returned by [`ConnTracker::update`] (Connecting at first).
    pub fn shown(&self) -> &ConnState {
        &self.shown
    }

    /// A (re)list began: the source's data is not whole until [`ConnTracker::listed`].
    pub fn relisting(&mut self, src: usize) {
        if let Some(s) = self.sources.get_mut(src) {
            s.listed = false;
        }
    }

    /// The source heard from the server (an object, a list page, a version): it works again.
    pub fn alive(&mut self, src: usize) {
        if let Some(s) = self.sources.get_mut(src) {
            s.failure = None;
        }
        if !self.any_transport_failure() {
            self.outage_since = None;
        }
    }

    pub fn listed(&mut self, src: usize) {
        self.alive(src);
        if let Some(s) = self.sources.get_mut(src) {
            s.listed = true;
        }
    }

    pub fn failed(&mut self, src: usize, failure: Failure, retry_at: Timestamp, now: Timestamp) {
        if failure.transport && !self.any_transport_failure() {
            self.outage_since = Some(now);
        }
        self.seq += 1;
        if let Some(s) = self.sources.get_mut(src) {
            s.failure = Some((self.seq, failure, retry_at));
        }
        if !self.any_transport_failure() {
            self.outage_since = None;
        }
    }

    fn any_transport_failure(&self) -> bool {
        self.failures().any(|(_, f, _)| f.transport)
    }

    fn failures(&self) -> impl Iterator<Item = &(u64, Failure, Timestamp)> {
        self.sources.iter().filter_map(|s| s.failure.as_ref())
    }

    /// The state the reports add up to; None while relisting after a sync with nothing failing
    /// (keep showing what was shown).
    fn current(&self) -> Option<ConnState> {
        let newest = |transport: bool| {
            self.failures()
                .filter(|(_, f, _)| f.transport == transport)
                .max_by_key(|(seq, _, _)| *seq)
        };
        if let Some((_, f, retry_at)) = newest(true) {
            return Some(ConnState::Unreachable {
                since: self.outage_since.unwrap_or(*retry_at),
                error: f.text.clone(),
                retry_at: *retry_at,
            });
        }
        if let Some((_, _, retry_at)) = newest(false) {
            // Different kinds may fail differently (events forbidden, pods fine): say each once.
            let mut texts: Vec<&str> = Vec::new();
            for (_, f, _) in self.failures() {
                if !texts.contains(&f.text.as_str()) {
                    texts.push(&f.text);
                }
            }
            return Some(ConnState::Degraded {
                error: texts.join("; "),
                retry_at: *retry_at,
            });
        }
        if self.sources.iter().all(|s| s.listed) {
            Some(ConnState::Synced)
        } else if self.synced_once {
            None
        } else {
            Some(ConnState::Connecting)
        }
    }

    /// The new state, if it differs from the one last returned.
    pub fn update(&mut self) -> Option<ConnState> {
        let state = self.current()?;
        if state == ConnState::Synced {
            self.synced_once = true;
        }
        if state == self.shown {
            return None;
        }
        self.shown = state.clone();
        Some(state)
    }
}
