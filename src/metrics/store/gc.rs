//! Retention, the memory cap and the heap accounting behind both.
//!
//! The bytes counted are the heap the store's own structures hold, by capacity (what the
//! allocator handed out), not by length: chunk bytes, series structs and their label slices,
//! the index, the postings, the symbol table and the targets' last-scrape lists. Hash tables are
//! counted at their capacity × (entry + one control byte), as hashbrown lays them out. Allocator
//! overhead per allocation is not counted, so the figure is a slight underestimate.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};

use super::series::Series;
use super::symbols::Sym;
use super::{STALE_NAN_BITS, SeriesId, Stats, Store, TargetState};

fn table_bytes<K, V>(capacity: usize) -> usize {
    capacity * (size_of::<(K, V)>() + 1)
}

impl Store {
    /// Drops samples older than the retention (relative to `now_ms`, at chunk resolution) and
    /// series left without samples; then enforces the memory cap.
    pub fn gc(&mut self, now_ms: i64) {
        let cutoff = now_ms.saturating_sub(self.config.retention_ms);
        let mut empty = Vec::new();
        for (i, slot) in self.series.iter_mut().enumerate() {
            if let Some(s) = slot {
                s.drop_before(cutoff);
                if s.is_empty()
                    && let Ok(id) = SeriesId::try_from(i)
                {
                    empty.push(id);
                }
            }
        }
        self.remove_series(&empty);
        self.enforce_cap(now_ms);
    }

    /// Evicts until the heap is under the cap: the oldest closed chunks across all series
    /// first, then whole series, stale ones first and oldest newest-sample first. Newest data
    /// goes last.
    fn enforce_cap(&mut self, now_ms: i64) {
        let cap = self.config.memory_cap_bytes;
        let mut bytes = self.heap_bytes();
        // From three quarters of the cap, heads close after a few minutes, so by the time the
        // cap is reached there is old history to drop; below half, they grow to full length.
        if bytes > cap / 4 * 3 {
            self.pressure = true;
        } else if bytes < cap / 2 {
            self.pressure = false;
        }
        if bytes <= cap {
            return;
        }
        self.last_eviction_ms = Some(now_ms);
        let mut oldest: BinaryHeap<Reverse<(i64, SeriesId)>> = self
            .series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let end = s.as_ref()?.oldest_closed_end()?;
                Some(Reverse((end, SeriesId::try_from(i).ok()?)))
            })
            .collect();
        while bytes > cap {
            let Some(Reverse((_, id))) = oldest.pop() else {
                break;
            };
            let Some(Some(s)) = self.series.get_mut(id as usize) else {
                continue;
            };
            if let Some((samples, freed)) = s.pop_oldest() {
                self.evicted_samples += samples as u64;
                bytes = bytes.saturating_sub(freed);
            }
            if let Some(end) = s.oldest_closed_end() {
                oldest.push(Reverse((end, id)));
            }
        }
        drop(oldest);
        for s in self.series.iter_mut().flatten() {
            s.closed.shrink_to_fit();
        }
        bytes = self.heap_bytes();
        if bytes <= cap {
            return;
        }
        // Whole series now: stale ones first, then by the age of their newest sample.
        let mut victims: Vec<(bool, i64, SeriesId)> = self
            .series
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let (t, v) = s.as_ref()?.last.unwrap_or((i64::MIN, 0));
                Some((v != STALE_NAN_BITS, t, SeriesId::try_from(i).ok()?))
            })
            .collect();
        victims.sort_unstable();
        let mut victims = victims.into_iter().map(|(_, _, id)| id).peekable();
        while bytes > cap && victims.peek().is_some() {
            // Each series is charged its share of everything (tables included), so a batch
            // neither overshoots much nor takes many rounds; a recount follows each batch.
            let live = self.index.len().max(1);
            let share = (bytes / live).max(1);
            let count = (bytes - cap).div_ceil(share);
            let batch: Vec<SeriesId> = victims.by_ref().take(count).collect();
            self.remove_series(&batch);
            self.shrink();
            bytes = self.heap_bytes();
        }
    }

    /// Removes series from the slots, the index, the postings, the symbols and the targets'
    /// lists. Samples they still hold count as evicted (retention removes only empty series).
    pub(super) fn remove_series(&mut self, ids: &[SeriesId]) {
        if ids.is_empty() {
            return;
        }
        let removed: HashSet<SeriesId> = ids.iter().copied().collect();
        let mut touched: HashSet<(Sym, Sym)> = HashSet::new();
        for &id in ids {
            let Some(slot) = self.series.get_mut(id as usize) else {
                continue;
            };
            let Some(s) = slot.take() else { continue };
            let samples = s.sample_count();
            if samples > 0 {
                self.evicted_samples += samples as u64;
                self.evicted_series += 1;
            }
            self.index.remove(&s.labels);
            for &(n, v) in s.labels.iter() {
                touched.insert((n, v));
                self.syms.release(n);
                self.syms.release(v);
            }
            self.free_series.push(id);
        }
        for pair in touched {
            if let Some(list) = self.postings.get_mut(&pair) {
                list.retain(|id| !removed.contains(id));
                if list.is_empty() {
                    self.postings.remove(&pair);
                }
            }
        }
        for state in self.targets.iter_mut().flatten() {
            state.last.retain(|id| !removed.contains(id));
        }
    }

    fn shrink(&mut self) {
        while self
            .series
            .last()
            .is_some_and(|s: &Option<Series>| s.is_none())
        {
            self.series.pop();
        }
        let len = self.series.len();
        self.free_series.retain(|&id| (id as usize) < len);
        self.series.shrink_to_fit();
        self.free_series.shrink_to_fit();
        self.index.shrink_to_fit();
        self.postings.shrink_to_fit();
        self.syms.shrink();
        for list in self.postings.values_mut() {
            list.shrink_to_fit();
        }
    }

    /// The heap the store holds now, counted as the module comment says.
    pub(super) fn heap_bytes(&self) -> usize {
        let series: usize = self
            .series
            .iter()
            .flatten()
            .map(|s| s.heap_bytes() + s.labels.len() * size_of::<(Sym, Sym)>())
            .sum();
        let postings: usize = self
            .postings
            .values()
            .map(|l| l.capacity() * size_of::<SeriesId>())
            .sum();
        let targets: usize = self
            .targets
            .iter()
            .flatten()
            .map(|t| t.last.capacity() * size_of::<SeriesId>() + 2 * t.key.len())
            .sum();
        series
            + self.series.capacity() * size_of::<Option<Series>>()
            + self.free_series.capacity() * size_of::<SeriesId>()
            + table_bytes::<Box<[(Sym, Sym)]>, SeriesId>(self.index.capacity())
            + postings
            + table_bytes::<(Sym, Sym), Vec<SeriesId>>(self.postings.capacity())
            + self.syms.heap_bytes()
            + targets
            + self.targets.capacity() * size_of::<Option<TargetState>>()
            + table_bytes::<Box<str>, u32>(self.target_keys.capacity())
            + self.scratch.capacity() * size_of::<(Sym, Sym)>()
    }

    /// Sizes and eviction figures. Walks every series: cheap enough once a second, not per frame
    /// of a busy loop.
    pub fn stats(&self) -> Stats {
        Stats {
            series: self.index.len(),
            samples: self.series.iter().flatten().map(Series::sample_count).sum(),
            bytes: self.heap_bytes(),
            cap_bytes: self.config.memory_cap_bytes,
            evicted_samples: self.evicted_samples,
            evicted_series: self.evicted_series,
            last_eviction_ms: self.last_eviction_ms,
        }
    }
}
