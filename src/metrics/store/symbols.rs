//! The symbol table: every label name and value is stored once and named by a `u32`, so a series
//! is a short slice of integers and label comparisons are integer comparisons.
//!
//! Symbols are reference-counted by the series that use them, so the names of pods long gone do
//! not pile up over days of churn: a symbol whose last series is dropped is freed and its number
//! reused.

use std::collections::HashMap;
use std::sync::Arc;

/// A symbol's number.
pub(super) type Sym = u32;

#[derive(Debug, Default)]
pub(super) struct Symbols {
    by_str: HashMap<Arc<str>, Sym>,
    /// Indexed by symbol: the string (None once freed) and how many series hold it.
    strs: Vec<(Option<Arc<str>>, u32)>,
    free: Vec<Sym>,
    /// Bytes of the strings themselves (each held once, shared by both maps through the `Arc`).
    str_bytes: usize,
}

/// Bytes an `Arc<str>` allocation costs beyond the text: the two reference counts.
const ARC_HEADER: usize = 2 * size_of::<usize>();

impl Symbols {
    /// The symbol of `s` if it is in the table (a lookup, nothing added).
    pub(super) fn get(&self, s: &str) -> Option<Sym> {
        self.by_str.get(s).copied()
    }

    /// The symbol of `s`, added with a reference count of 0 if new; the caller calls `retain`
    /// when a series starts using it.
    pub(super) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.by_str.get(s) {
            return sym;
        }
        let text: Arc<str> = Arc::from(s);
        self.str_bytes += s.len() + ARC_HEADER;
        let sym = match self.free.pop() {
            Some(sym) => {
                if let Some(slot) = self.strs.get_mut(sym as usize) {
                    *slot = (Some(text.clone()), 0);
                }
                sym
            }
            None => {
                self.strs.push((Some(text.clone()), 0));
                Sym::try_from(self.strs.len() - 1).unwrap_or(Sym::MAX)
            }
        };
        self.by_str.insert(text, sym);
        sym
    }

    pub(super) fn resolve(&self, sym: Sym) -> &str {
        match self.strs.get(sym as usize) {
            Some((Some(s), _)) => s,
            _ => "",
        }
    }

    pub(super) fn retain(&mut self, sym: Sym) {
        if let Some(slot) = self.strs.get_mut(sym as usize) {
            slot.1 = slot.1.saturating_add(1);
        }
    }

    /// Drops one reference; the symbol is freed when none is left.
    pub(super) fn release(&mut self, sym: Sym) {
        let Some(slot) = self.strs.get_mut(sym as usize) else {
            return;
        };
        slot.1 = slot.1.saturating_sub(1);
        if slot.1 == 0
            && let Some(text) = slot.0.take()
        {
            self.str_bytes -= text.len() + ARC_HEADER;
            self.by_str.remove(&*text);
            self.free.push(sym);
        }
    }

    /// Gives back the spare capacity of the tables (after an eviction).
    pub(super) fn shrink(&mut self) {
        while self.strs.last().is_some_and(|(s, _)| s.is_none()) {
            self.strs.pop();
        }
        let len = self.strs.len();
        self.free.retain(|&sym| (sym as usize) < len);
        self.strs.shrink_to_fit();
        self.free.shrink_to_fit();
        self.by_str.shrink_to_fit();
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.by_str.len()
    }

    pub(super) fn heap_bytes(&self) -> usize {
        let map_entry = size_of::<(Arc<str>, Sym)>() + 1;
        self.str_bytes
            + self.by_str.capacity() * map_entry
            + self.strs.capacity() * size_of::<(Option<Arc<str>>, u32)>()
            + self.free.capacity() * size_of::<Sym>()
    }
}
