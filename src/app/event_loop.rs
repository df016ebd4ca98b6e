//! The event loop: messages in, `update`, effects out, and a frame drawn only when something
//! changed and the queue is empty — at most ~30 frames a second, never on a timer while idle.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc::{Receiver, UnboundedReceiver};

use crate::kube::KubeMsg;
use crate::state::{Effect, Msg, State, update};
use crate::view::{self, Styles};

/// Minimum time between two frames.
const FRAME_GAP: Duration = Duration::from_millis(33);

/// Messages handled at most between two looks at whether a frame is due.
const MAX_DRAIN: usize = 256;

/// Carries out effects; the real one talks to clusters, tests record them.
pub trait Runner {
    fn run(&mut self, effect: Effect);
}

/// Where messages come from: the clusters (a bounded channel, so a UI that falls behind slows the
/// watchers instead of piling up batches) and the terminal and clock.
pub struct Inbox {
    pub kube: Receiver<KubeMsg>,
    pub ui: UnboundedReceiver<Msg>,
}

impl Inbox {
    /// The next message; None when both sources are gone.
    async fn recv(&mut self) -> Option<Msg> {
        tokio::select! {
            // Keys first: a user pressing q during a flood of changes is not kept waiting.
            biased;
            Some(msg) = self.ui.recv() => Some(msg),
            Some(msg) = self.kube.recv() => Some(Msg::Kube(msg)),
            else => None,
        }
    }

    fn try_recv(&mut self) -> Option<Msg> {
        self.ui
            .try_recv()
            .ok()
            .or_else(|| self.kube.try_recv().ok().map(Msg::Kube))
    }
}

/// Runs until the user quits or every sender is gone. Returns the final state.
pub async fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    mut state: State,
    styles: &Styles,
    rx: &mut Inbox,
    runner: &mut impl Runner,
    clock: impl Fn() -> Timestamp,
) -> Result<State, B::Error> {
    let mut last_frame: Option<Instant> = None;
    loop {
        if state.dirty {
            let wait = last_frame.map_or(Duration::ZERO, |t| FRAME_GAP.saturating_sub(t.elapsed()));
            if wait.is_zero() {
                let now = clock();
                terminal.draw(|f| view::draw(f, &state, styles, now))?;
                state.dirty = false;
                last_frame = Some(Instant::now());
            } else {
                // Wait for the frame gap, but take messages that arrive meanwhile.
                match tokio::time::timeout(wait, rx.recv()).await {
                    Ok(Some(msg)) => {
                        if handle(&mut state, msg, runner, &clock) {
                            return Ok(state);
                        }
                    }
                    Ok(None) => return Ok(state),
                    Err(_) => {}
                }
                continue;
            }
        }
        let Some(msg) = rx.recv().await else {
            return Ok(state);
        };
        if handle(&mut state, msg, runner, &clock) {
            return Ok(state);
        }
        // Drain what is already queued before drawing: one frame for a burst, but a bounded
        // one, so a flood of changes cannot keep the screen from updating.
        for _ in 0..MAX_DRAIN {
            let Some(msg) = rx.try_recv() else {
                break;
            };
            if handle(&mut state, msg, runner, &clock) {
                return Ok(state);
            }
        }
    }
}

/// Applies one message; true when the user quit.
fn handle(
    state: &mut State,
    msg: Msg,
    runner: &mut impl Runner,
    clock: &impl Fn() -> Timestamp,
) -> bool {
    for effect in update(state, msg, clock()) {
        if effect == Effect::Quit {
            return true;
        }
        runner.run(effect);
    }
    state.quit
}
