//! The progress bar of a bulk ingest (indicatif): messages done of all, rate and ETA, on
//! stderr, drawn only when stderr is a terminal and `--quiet` is not given.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over the plan's steps.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar over `total` steps, `start` of them done already; hidden unless `show`.
    pub fn new(total: usize, start: usize, show: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(total as u64),
            if show {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        let style =
            ProgressStyle::with_template("{bar:32} {pos}/{len} messages  {per_sec}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(start as u64);
        bar.reset_eta();
        Bar(bar)
    }

    /// Moves the bar to `done` steps.
    pub fn set(&self, done: usize) {
        self.0.set_position(done as u64);
    }

    /// Removes the bar (the report follows).
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
