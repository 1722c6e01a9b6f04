//! Progress of layer reads, on standard error only (reports never see it): a bar on a
//! terminal; with `--progress always` elsewhere (a CI log), one line per layer read; with
//! `--progress never`, or by default when standard error is no terminal, nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

#[derive(Default)]
pub(crate) struct Progress {
    view: View,
    images: Counter,
    layers: Counter,
}

#[derive(Default)]
enum View {
    #[default]
    Hidden,
    Bar(ProgressBar),
    Lines,
}

/// Done of total.
#[derive(Default)]
struct Counter {
    done: AtomicU64,
    total: AtomicU64,
}

impl Counter {
    fn text(&self) -> String {
        format!(
            "{}/{}",
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed)
        )
    }
}

impl Progress {
    /// Progress for a run: shown when `enabled` (a bar if standard error is a terminal, lines
    /// otherwise).
    pub(crate) fn new(enabled: bool) -> Progress {
        let view = match (enabled, std::io::stderr().is_terminal()) {
            (false, _) => View::Hidden,
            (true, false) => View::Lines,
            (true, true) => {
                let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
                let style = ProgressStyle::with_template(
                    "{spinner} reading image layers: {msg} [{bar:30}] {bytes}/{total_bytes} \
                     {bytes_per_sec} {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.enable_steady_tick(Duration::from_millis(200));
                View::Bar(bar)
            }
        };
        Progress {
            view,
            ..Progress::default()
        }
    }

    /// An image whose layers are about to be read.
    pub(crate) fn start_image(&self) {
        self.images.total.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    pub(crate) fn finish_image(&self) {
        self.images.done.fetch_add(1, Ordering::Relaxed);
        self.redraw();
    }

    /// A layer of `stored_bytes` (if known) about to be read.
    pub(crate) fn start_layer(&self, stored_bytes: Option<u64>) {
        self.layers.total.fetch_add(1, Ordering::Relaxed);
        if let View::Bar(bar) = &self.view {
            bar.inc_length(stored_bytes.unwrap_or(0));
        }
        self.redraw();
    }

    pub(crate) fn finish_layer(&self, what: &str, uncompressed: u64) {
        self.layers.done.fetch_add(1, Ordering::Relaxed);
        match &self.view {
            View::Lines => eprintln!(
                "portcullis: read {what} ({} uncompressed; layers {}, images {})",
                crate::image::human_size(uncompressed),
                self.layers.text(),
                self.images.text()
            ),
            _ => self.redraw(),
        }
    }

    /// Bytes read as stored.
    pub(crate) fn read(&self, bytes: u64) {
        if let View::Bar(bar) = &self.view {
            bar.inc(bytes);
        }
    }

    /// Clears the bar, before the report is written.
    pub(crate) fn finish(&self) {
        if let View::Bar(bar) = &self.view {
            bar.finish_and_clear();
        }
    }

    fn redraw(&self) {
        if let View::Bar(bar) = &self.view {
            bar.set_message(format!(
                "{} layers, {} images",
                self.layers.text(),
                self.images.text()
            ));
        }
    }
}
