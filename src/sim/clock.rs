//! The simulator's clock: real time scaled by a speed factor, or stepped by hand in tests.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};

/// A shared clock. `--speed 10` makes one real second ten simulated seconds, so a CrashLoopBackOff
/// back-off or a progress deadline can be watched without waiting minutes.
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<ClockInner>,
}

#[derive(Debug)]
enum ClockInner {
    Scaled {
        origin_real: Instant,
        origin_sim: Timestamp,
        speed: f64,
    },
    Manual(Mutex<Timestamp>),
}

impl SimClock {
    /// A clock that starts at the real wall-clock time and runs `speed` times faster.
    pub fn scaled(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self {
            inner: Arc::new(ClockInner::Scaled {
                origin_real: Instant::now(),
                origin_sim: Timestamp::now(),
                speed,
            }),
        }
    }

    /// A clock that only moves when [`SimClock::advance`] is called (pure controller tests).
    pub fn manual(start: Timestamp) -> Self {
        Self {
            inner: Arc::new(ClockInner::Manual(Mutex::new(start))),
        }
    }

    pub fn now(&self) -> Timestamp {
        match &*self.inner {
            ClockInner::Scaled {
                origin_real,
                origin_sim,
                speed,
            } => {
                let real = origin_real.elapsed().as_secs_f64() * speed;
                let sim = SignedDuration::try_from_secs_f64(real).unwrap_or(SignedDuration::MAX);
                origin_sim.saturating_add(sim).unwrap_or(*origin_sim)
            }
            ClockInner::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward; a scaled clock ignores this.
    pub fn advance(&self, by: SignedDuration) {
        if let ClockInner::Manual(t) = &*self.inner {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            *t = t.saturating_add(by).unwrap_or(*t);
        }
    }

    pub fn speed(&self) -> f64 {
        match &*self.inner {
            ClockInner::Scaled { speed, .. } => *speed,
            ClockInner::Manual(_) => 1.0,
        }
    }

    /// How long to sleep in real time for `sim` simulated time to pass.
    pub fn real_duration(&self, sim: Duration) -> Duration {
        sim.div_f64(self.speed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let clock = SimClock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now().to_string(), "2026-01-01T00:01:30Z");
    }

    #[test]
    fn scaled_clock_runs_faster() {
        let clock = SimClock::scaled(100.0);
        let t0 = clock.now();
        std::thread::sleep(Duration::from_millis(50));
        let passed = clock.now().duration_since(t0);
        assert!(
            passed >= SignedDuration::from_secs(4),
            "only {passed:?} passed"
        );
        assert_eq!(
            clock.real_duration(Duration::from_secs(10)),
            Duration::from_millis(100)
        );
    }
}
