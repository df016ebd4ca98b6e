//! The log view's ring buffer: lines and markers, at most `cap` entries. When it wraps, the
//! oldest entries go and a marker at the front says how many lines went; lines a stream could not
//! deliver are marked where they were lost. Nothing is dropped without a marker.
//!
//! It also keeps what the view needs to draw only the visible rows: the entries passing the
//! filter (by sequence number, updated as lines arrive) and the follow/paused position.

use std::collections::VecDeque;

use super::filter::LogFilter;
use super::line::LogLine;
use super::source::SourceId;

/// Why lines are missing or what happened to a source, shown between the lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marker {
    /// The buffer was full: this many of the oldest lines were let go.
    Wrapped(u64),
    /// A stream fell behind (the console was slow) and gave up this many lines.
    Behind {
        source: Option<SourceId>,
        lines: u64,
    },
    /// A stream broke and was reconnected; it resumed where it stopped.
    Gap {
        source: SourceId,
        after_secs: u64,
    },
    Added(SourceId),
    Gone(SourceId),
    /// An error or a word about one source (or the whole tail).
    Note {
        source: Option<SourceId>,
        text: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Line(LogLine),
    Marker(Marker),
}

/// How far back a batch is merged in by time.
pub const MERGE_WINDOW: usize = 20_000;

#[derive(Clone, Debug)]
pub struct LogBuffer {
    entries: VecDeque<Entry>,
    /// Sequence number of `entries[0]`.
    first: u64,
    cap: usize,
    /// Lines let go at the front.
    wrapped: u64,
    /// Lines a stream could not deliver.
    behind: u64,
    filter: Option<LogFilter>,
    /// Sequence numbers of the entries that pass the filter, when there is one.
    shown: Option<VecDeque<u64>>,
    /// While paused: the sequence number of the bottom row on screen.
    anchor: Option<u64>,
    /// Lines that arrived while paused.
    pub new_lines: u64,
}

impl LogBuffer {
    pub fn new(cap: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            first: 0,
            // Room for the wrap marker and at least one line.
            cap: cap.max(2),
            wrapped: 0,
            behind: 0,
            filter: None,
            shown: None,
            anchor: None,
            new_lines: 0,
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every line dropped so far: wrapped off the front and lost by streams.
    pub fn dropped(&self) -> u64 {
        self.wrapped + self.behind
    }

    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    pub fn push_line(&mut self, line: LogLine) {
        if self.anchor.is_some() {
            self.new_lines += 1;
        }
        self.push(Entry::Line(line));
    }

    /// Pushes a batch from one source in time order with what is already there: a workload's
    /// pods send their backlogs one after another, and a reader wants them interleaved by time.
    /// Only the newest [`MERGE_WINDOW`] entries (back to the last marker) are reordered, and
    /// nothing is reordered while paused (the reader's place must not move).
    pub fn push_lines(&mut self, lines: Vec<LogLine>) {
        let Some(first_ts) = lines.first().and_then(|l| l.ts) else {
            lines.into_iter().for_each(|l| self.push_line(l));
            return;
        };
        let mut split = self.entries.len();
        if self.anchor.is_none() {
            for (i, e) in self.entries.iter().enumerate().rev().take(MERGE_WINDOW) {
                match e {
                    Entry::Line(l) if l.ts.is_some_and(|t| t > first_ts) => split = i,
                    _ => break,
                }
            }
        }
        if split == self.entries.len() {
            lines.into_iter().for_each(|l| self.push_line(l));
            return;
        }
        // Take the newer entries back out and push both runs merged by time (stable: what was
        // there first stays first among equals).
        let newer: Vec<Entry> = self.entries.drain(split..).collect();
        let cut = self.first + split as u64;
        if let Some(shown) = &mut self.shown {
            while shown.back().is_some_and(|&s| s >= cut) {
                shown.pop_back();
            }
        }
        let mut a = newer.into_iter().peekable();
        let mut b = lines.into_iter().peekable();
        loop {
            let take_a = match (a.peek(), b.peek()) {
                (Some(Entry::Line(x)), Some(y)) => x.ts.zip(y.ts).is_none_or(|(x, y)| x <= y),
                (Some(_), _) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            let entry = if take_a {
                a.next()
            } else {
                b.next().map(Entry::Line)
            };
            if let Some(entry) = entry {
                self.push(entry);
            }
        }
    }

    pub fn push_marker(&mut self, marker: Marker) {
        if let Marker::Behind { lines, .. } = marker {
            self.behind += lines;
        }
        self.push(Entry::Marker(marker));
    }

    fn push(&mut self, entry: Entry) {
        if self.entries.len() >= self.cap {
            self.make_room();
        }
        let seq = self.first + self.entries.len() as u64;
        if let Some(shown) = &mut self.shown
            && passes(self.filter.as_ref(), &entry)
        {
            shown.push_back(seq);
        }
        self.entries.push_back(entry);
    }

    /// Lets the oldest entry go, keeping (or putting) the wrap marker at the front.
    fn make_room(&mut self) {
        if matches!(
            self.entries.front(),
            Some(Entry::Marker(Marker::Wrapped(_)))
        ) {
            self.entries.pop_front();
            self.first += 1;
        }
        // Room for the marker and the entry being pushed.
        while self.entries.len() + 2 > self.cap {
            if let Some(Entry::Line(_)) = self.entries.pop_front() {
                self.wrapped += 1;
            }
            self.first += 1;
        }
        // The marker takes the sequence number of the last entry let go (at least one was).
        self.first -= 1;
        self.entries
            .push_front(Entry::Marker(Marker::Wrapped(self.wrapped)));
        if let Some(shown) = &mut self.shown {
            while shown.front().is_some_and(|&s| s <= self.first) {
                shown.pop_front();
            }
            shown.push_front(self.first);
        }
        if let Some(a) = &mut self.anchor {
            *a = (*a).max(self.first);
        }
    }

    pub fn filter(&self) -> Option<&LogFilter> {
        self.filter.as_ref()
    }

    /// Filters the rows (markers always show: a drop is never hidden).
    pub fn set_filter(&mut self, filter: Option<LogFilter>) {
        self.shown = filter.as_ref().map(|f| {
            self.entries
                .iter()
                .enumerate()
                .filter(|(_, e)| passes(Some(f), e))
                .map(|(i, _)| self.first + i as u64)
                .collect()
        });
        self.filter = filter;
    }

    /// Rows the view can show (entries passing the filter).
    pub fn rows(&self) -> usize {
        self.shown
            .as_ref()
            .map_or(self.entries.len(), VecDeque::len)
    }

    /// The `i`th row.
    pub fn row(&self, i: usize) -> Option<&Entry> {
        let seq = match &self.shown {
            Some(shown) => *shown.get(i)?,
            None => self.first + i as u64,
        };
        self.entries.get(usize::try_from(seq - self.first).ok()?)
    }

    fn seq_of_row(&self, i: usize) -> Option<u64> {
        match &self.shown {
            Some(shown) => shown.get(i).copied(),
            None => (i < self.entries.len()).then(|| self.first + i as u64),
        }
    }

    /// The row at the bottom of the screen: the last one when following.
    pub fn bottom(&self) -> Option<usize> {
        let rows = self.rows();
        if rows == 0 {
            return None;
        }
        let Some(anchor) = self.anchor else {
            return Some(rows - 1);
        };
        let i = match &self.shown {
            Some(shown) => shown.partition_point(|&s| s <= anchor),
            None => usize::try_from(anchor + 1 - self.first).unwrap_or(rows),
        };
        Some(i.saturating_sub(1).min(rows - 1))
    }

    pub fn paused(&self) -> bool {
        self.anchor.is_some()
    }

    /// Pauses at the current bottom row (new lines are then counted), or follows again.
    pub fn set_paused(&mut self, paused: bool) {
        if paused == self.paused() {
            return;
        }
        self.new_lines = 0;
        self.anchor = if paused {
            Some(
                self.bottom()
                    .and_then(|i| self.seq_of_row(i))
                    .unwrap_or(self.first),
            )
        } else {
            None
        };
    }

    /// Scrolls by `delta` rows (negative: back in time). Scrolling back pauses; scrolling to the
    /// end does not resume following, so a reader is not yanked away by new lines.
    pub fn scroll(&mut self, delta: isize) {
        let Some(bottom) = self.bottom() else {
            return;
        };
        if delta == 0 {
            return;
        }
        self.set_paused(true);
        let last = self.rows().saturating_sub(1) as isize;
        let to = (bottom as isize).saturating_add(delta).clamp(0, last) as usize;
        self.anchor = self.seq_of_row(to).or(self.anchor);
    }

    /// Forgets every entry (the tail restarted with other options).
    pub fn clear(&mut self) {
        let filter = self.filter.take();
        let paused = self.paused();
        *self = Self::new(self.cap);
        self.set_filter(filter);
        self.set_paused(paused);
    }
}

fn passes(filter: Option<&LogFilter>, entry: &Entry) -> bool {
    match (filter, entry) {
        (Some(f), Entry::Line(l)) => f.matches(&l.text),
        _ => true,
    }
}

#[cfg(test)]
mod tests;
