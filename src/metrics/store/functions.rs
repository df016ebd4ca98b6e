//! PromQL's range functions over one series' samples, as pure functions for the evaluator:
//! `rate`/`increase`/`delta` (Prometheus's `extrapolatedRate`), `irate`/`idelta`, `resets`, and
//! `histogram_quantile` over classic buckets (`bucketQuantile`). The semantics follow
//! Prometheus 3.x's promql/functions.go and promql/quantile.go; the tests use cases from its
//! promqltest files.

/// Prometheus's `extrapolatedRate` for `rate` (`is_counter`, `is_rate`), `increase`
/// (`is_counter`, not `is_rate`) and `delta` (neither). `samples` are the points in the range,
/// oldest first, without staleness markers. `None` with fewer than 2 points.
///
/// Counter resets (a value lower than the previous one) add the value before the reset. The
/// result is extrapolated to the range's ends when the first/last sample is within 110 % of the
/// average interval of them, else by half an average interval (the series is taken to start or end
/// inside the range); for counters, never to before the counter would have been zero.
///
/// Prometheus 2.x differs: it limits the start extrapolation by the zero point *before*
/// deciding between "to the boundary" and "half an interval", so a counter whose zero point falls
/// between half an interval and 110 % of one is extrapolated further (e.g. in promqltest's
/// `testcounter_zero_cutoff_total{start="3m"}`, 2.x gives 0.65 where 3.x gives 0.6). 2.x also
/// selected the range closed at its start; that is the caller's choice of `samples`.
pub fn extrapolated_rate(
    samples: &[(i64, f64)],
    range_start_ms: i64,
    range_end_ms: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let w = CounterWindow::from_samples(samples.iter().copied(), is_counter)?;
    window_rate(&w, range_start_ms, range_end_ms, is_counter, is_rate)
}

/// [`extrapolated_rate`] from a window's [`CounterWindow`] (which must list its drops' values
/// when `is_counter`): the same arithmetic in the same order, so the same answer to the bit.
pub fn window_rate(
    w: &CounterWindow,
    range_start_ms: i64,
    range_end_ms: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let ((first_t, first_v), (last_t, last_v)) = (w.first, w.last);
    if w.count < 2 {
        return None;
    }
    debug_assert!(!is_counter || w.summed_drops.is_some() || w.drop_values.len() == w.drops);
    let mut result = last_v - first_v;
    if is_counter {
        result = w.add_drops(result);
    }
    let mut to_start = (first_t - range_start_ms) as f64 / 1000.0;
    let mut to_end = (range_end_ms - last_t) as f64 / 1000.0;
    let sampled = (last_t - first_t) as f64 / 1000.0;
    let average = sampled / (w.count - 1) as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if is_counter && result > 0.0 && first_v >= 0.0 {
        // Counters are not negative: if going back by `to_start` would cross zero, start at zero.
        let to_zero = sampled * (first_v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let mut factor = (sampled + to_start + to_end) / sampled;
    if is_rate {
        factor /= (range_end_ms - range_start_ms) as f64 / 1000.0;
    }
    Some(result * factor)
}

/// What `rate`, `increase`, `delta`, `resets` and `changes` need of a window's samples (staleness
/// markers left out): its first and last, how many, and what happened between neighbours. The
/// store builds it mostly from per-chunk summaries, so a long window is not decoded; from a slice
/// it is [`CounterWindow::from_samples`]. Both go through [`CounterTally`], so they agree.
#[derive(Debug, Clone, Default)]
pub struct CounterWindow {
    pub first: (i64, f64),
    pub last: (i64, f64),
    pub count: usize,
    /// Neighbours whose values differ (two NaNs do not), as `changes` counts.
    pub changes: usize,
    /// Neighbours where the value went down, as `resets` counts.
    pub drops: usize,
    /// The value before each drop, oldest first: what a counter's increase adds back. Only
    /// collected when asked for (see [`CounterTally::new`]), and empty when `summed_drops` is set.
    pub drop_values: Vec<f64>,
    /// The values before the drops as one exact sum, when the store summed them from its
    /// chunks' summaries instead of listing them (see [`CounterTally::summing`]).
    pub summed_drops: Option<f64>,
}

impl CounterWindow {
    /// The window of `samples` (in time order, no staleness markers); `None` when empty.
    pub fn from_samples(
        samples: impl IntoIterator<Item = (i64, f64)>,
        drop_values: bool,
    ) -> Option<CounterWindow> {
        let mut tally = CounterTally::new(drop_values);
        for (t, v) in samples {
            tally.push(t, v);
        }
        tally.finish()
    }

    /// `result` plus the values before the drops, added one at a time, oldest first, as
    /// Prometheus 3's `extrapolatedRate` does. An exact sum of them gives the same bits: every
    /// value involved is then an integer small enough that no addition rounds.
    pub fn add_drops(&self, mut result: f64) -> f64 {
        if let Some(sum) = self.summed_drops {
            return result + sum;
        }
        for prev in &self.drop_values {
            result += prev;
        }
        result
    }

    /// The values before the drops summed from zero, oldest first, as Prometheus 2's
    /// `extrapolatedRate` sums its counter correction.
    pub fn drop_sum(&self) -> f64 {
        self.summed_drops
            .unwrap_or_else(|| self.drop_values.iter().sum::<f64>())
    }

    /// Whether the two give every function the same answer, to the bit (NaN values included):
    /// the same first and last samples and counts, and drop values that add up the same way.
    /// For tests that compare two ways of building one.
    pub fn same_as(&self, other: &CounterWindow) -> bool {
        let bits = |(t, v): (i64, f64)| (t, v.to_bits());
        let listed = |w: &CounterWindow| {
            w.drop_values
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let drops_agree = match (self.summed_drops, other.summed_drops) {
            (None, None) => listed(self) == listed(other),
            _ => {
                let start = self.last.1 - self.first.1;
                self.add_drops(start).to_bits() == other.add_drops(start).to_bits()
                    && self.drop_sum().to_bits() == other.drop_sum().to_bits()
            }
        };
        bits(self.first) == bits(other.first)
            && bits(self.last) == bits(other.last)
            && (self.count, self.changes, self.drops) == (other.count, other.changes, other.drops)
            && drops_agree
    }
}

/// The largest value that may go into an exact sum of drop values (2^51): with every value an
/// integer no bigger, a window's `last - first` plus the sum stays below 2^53, where every
/// integer is a float, so no addition rounds and the order of the additions does not matter.
pub const EXACT_LIMIT: f64 = 2_251_799_813_685_248.0;

/// Whether `v` may go into an exact sum: an integer in `0..=EXACT_LIMIT`.
pub fn exact_term(v: f64) -> bool {
    (0.0..=EXACT_LIMIT).contains(&v) && v.fract() == 0.0
}

/// `sum + v` if both may go into an exact sum and so may the result.
pub fn exact_add(sum: f64, v: f64) -> Option<f64> {
    let total = sum + v;
    (exact_term(v) && exact_term(total)).then_some(total)
}

/// Whether two neighbouring values count as a change for `changes`.
pub fn changed(prev: f64, cur: f64) -> bool {
    !(cur == prev || (cur.is_nan() && prev.is_nan()))
}

/// Builds a [`CounterWindow`] from samples and summarised runs of them, oldest first.
#[derive(Debug, Default)]
pub struct CounterTally {
    window: Option<CounterWindow>,
    drop_values: bool,
    /// Runs may bring their drop values as an exact sum (see [`CounterTally::summing`]).
    sums: bool,
    /// A drop value could not join an exact sum: the window must be listed instead.
    unsummable: bool,
}

impl CounterTally {
    /// `drop_values`: whether to list the value before each drop (`rate` and `increase` add
    /// them back; `resets`, `changes` and `delta` need only the counts).
    pub fn new(drop_values: bool) -> CounterTally {
        CounterTally {
            window: None,
            drop_values,
            sums: false,
            unsummable: false,
        }
    }

    /// [`CounterTally::new`] also taking runs whose drop values come as an exact sum (see
    /// [`CounterTally::push_run`]). Whether the window's answer is then exact is only known at
    /// its end: check [`CounterTally::exact`], and build it listed if not.
    pub fn summing(drop_values: bool) -> CounterTally {
        CounterTally {
            sums: true,
            ..CounterTally::new(drop_values)
        }
    }

    /// Whether the values before drops are wanted (a summarised run with drops then cannot be
    /// taken whole, unless it brings their exact sum to a summing tally).
    pub fn wants_drop_values(&self) -> bool {
        self.drop_values
    }

    /// Whether runs may bring their drop values as an exact sum.
    pub fn sums_drops(&self) -> bool {
        self.sums
    }

    /// Whether the window gives the same answers as one listing every drop value: it lists them
    /// all, or its sum of them is exact and so are its first and last values (see
    /// [`EXACT_LIMIT`]).
    pub fn exact(&self) -> bool {
        match &self.window {
            _ if self.unsummable => false,
            Some(w) if w.summed_drops.is_some() => exact_term(w.first.1) && exact_term(w.last.1),
            _ => true,
        }
    }

    /// Adds a drop's value (or an exact sum of several) to the window's exact sum, folding in
    /// what was listed so far; marks the window unsummable when that cannot be exact.
    fn add_to_sum(&mut self, v: f64) {
        let Some(w) = &mut self.window else {
            return;
        };
        let listed = std::mem::take(&mut w.drop_values);
        let sum = listed
            .into_iter()
            .chain([v])
            .try_fold(w.summed_drops.unwrap_or(0.0), exact_add);
        w.summed_drops = sum;
        self.unsummable |= sum.is_none();
    }

    /// One more sample, newer than the last (not a staleness marker).
    pub fn push(&mut self, t: i64, v: f64) {
        let Some(w) = &mut self.window else {
            self.window = Some(CounterWindow {
                first: (t, v),
                last: (t, v),
                count: 1,
                ..CounterWindow::default()
            });
            return;
        };
        let prev = w.last.1;
        if changed(prev, v) {
            w.changes += 1;
        }
        let dropped = v < prev;
        w.last = (t, v);
        w.count += 1;
        if dropped {
            w.drops += 1;
            if self.drop_values {
                if w.summed_drops.is_some() {
                    self.add_to_sum(prev);
                } else {
                    w.drop_values.push(prev);
                }
            }
        }
    }

    /// A run of `count` ≥ 1 samples, newer than the last, known by its first and last sample
    /// and the changes and drops between its own neighbours. With drop values wanted, a run with
    /// drops must bring the exact sum of their values (`drop_sum`), to a summing tally.
    pub fn push_run(
        &mut self,
        first: (i64, f64),
        last: (i64, f64),
        count: usize,
        changes: usize,
        (drops, drop_sum): (usize, Option<f64>),
    ) {
        debug_assert!(
            count >= 1 && !(self.drop_values && drops > 0 && !(self.sums && drop_sum.is_some()))
        );
        self.push(first.0, first.1);
        if let Some(w) = &mut self.window
            && count > 1
        {
            w.count += count - 1;
            w.changes += changes;
            w.drops += drops;
            w.last = last;
        }
        if self.drop_values && drops > 0 {
            match drop_sum {
                Some(sum) => self.add_to_sum(sum),
                None => self.unsummable = true,
            }
        }
    }

    pub fn finish(self) -> Option<CounterWindow> {
        self.window
    }
}

/// Prometheus's `instantValue` for `irate` (`is_rate`) and `idelta`: from the last two points.
/// For `irate`, a counter reset counts the last value as the increase. `None` with fewer than two
/// points or when they share a timestamp.
fn instant_value(samples: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    let [.., (prev_t, prev_v), (last_t, last_v)] = samples else {
        return None;
    };
    let interval = last_t - prev_t;
    if interval == 0 {
        return None;
    }
    let mut result = if is_rate && last_v < prev_v {
        *last_v
    } else {
        last_v - prev_v
    };
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// PromQL `irate`: the per-second rate between the last two points of the range.
pub fn irate(samples: &[(i64, f64)]) -> Option<f64> {
    instant_value(samples, true)
}

/// PromQL `idelta`: the difference between the last two points of the range.
pub fn idelta(samples: &[(i64, f64)]) -> Option<f64> {
    instant_value(samples, false)
}

/// PromQL `resets`: how many times the value went down.
pub fn resets(samples: &[(i64, f64)]) -> usize {
    CounterWindow::from_samples(samples.iter().copied(), false).map_or(0, |w| w.drops)
}

/// The relative tolerance under which neighbouring cumulative counts are taken as equal
/// (Prometheus's `smallDeltaTolerance`): float sums of rates across series drift a little.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

/// Prometheus's `almost.Equal`.
fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < f64::MIN_POSITIVE {
        return diff < epsilon * f64::MIN_POSITIVE;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// Prometheus's `bucketQuantile` for classic histograms: `buckets` are (upper bound `le`,
/// cumulative count) in any order (sorted here). Needs a `+Inf` bucket (else NaN); buckets with
/// the same bound are merged; counts are forced monotonic (a rate over buckets scraped a moment
/// apart can dip); q < 0 gives -Inf, q > 1 +Inf, NaN q NaN. The quantile is interpolated linearly
/// in its bucket, the lowest bucket from 0 when its bound is above 0 (else its bound is returned);
/// a quantile in the `+Inf` bucket is the highest finite bound.
pub fn bucket_quantile(q: f64, buckets: &mut [(f64, f64)]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if !buckets.last().is_some_and(|b| b.0 == f64::INFINITY) {
        return f64::NAN;
    }
    let len = coalesce(buckets);
    let Some(buckets) = buckets.get_mut(..len) else {
        return f64::NAN;
    };
    ensure_monotonic(buckets);
    let (Some(&(_, observations)), true) = (buckets.last(), buckets.len() >= 2) else {
        return f64::NAN;
    };
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let finite = buckets.len() - 1;
    let b = buckets
        .get(..finite)
        .map_or(finite, |f| f.partition_point(|&(_, count)| count < rank));
    if b == finite {
        return buckets.get(finite - 1).map_or(f64::NAN, |&(le, _)| le);
    }
    let Some(&(bucket_end, mut count)) = buckets.get(b) else {
        return f64::NAN;
    };
    if b == 0 && bucket_end <= 0.0 {
        return bucket_end;
    }
    let mut bucket_start = 0.0;
    if let Some(&(prev_le, prev_count)) = b.checked_sub(1).and_then(|p| buckets.get(p)) {
        bucket_start = prev_le;
        count -= prev_count;
        rank -= prev_count;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// Merges neighbours with the same upper bound (summing counts) in sorted `buckets`; returns the
/// new length.
fn coalesce(buckets: &mut [(f64, f64)]) -> usize {
    let mut len: usize = 0;
    for i in 0..buckets.len() {
        let Some(&(le, count)) = buckets.get(i) else {
            break;
        };
        match len.checked_sub(1).and_then(|last| buckets.get_mut(last)) {
            Some(last) if last.0 == le => last.1 += count,
            _ => {
                if let Some(slot) = buckets.get_mut(len) {
                    *slot = (le, count);
                }
                len += 1;
            }
        }
    }
    len
}

/// Prometheus's `ensureMonotonicAndIgnoreSmallDeltas`: a count below the previous one, or within
/// the tolerance of it, is raised to it.
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    let Some(&(_, mut prev)) = buckets.first() else {
        return;
    };
    for bucket in buckets.iter_mut().skip(1) {
        let cur = bucket.1;
        if cur == prev {
            continue;
        }
        if almost_equal(prev, cur, SMALL_DELTA_TOLERANCE) || cur < prev {
            bucket.1 = prev;
            continue;
        }
        prev = cur;
    }
}
