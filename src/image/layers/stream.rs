//! A registry response body as a blocking `Read`, for the layer reader on the blocking pool:
//! a task forwards the body's chunks through a bounded channel, so at most
//! [`CHANNEL_CHUNKS`] chunks wait in memory whatever the blob's size, and the download
//! pauses while decompression catches up.

use bytes::{Buf, Bytes};
use std::io::{self, Read};
use std::time::Duration;
use tokio::sync::mpsc;

use super::read::fault;
use crate::image::error::ImageError;

/// Chunks (of some 16 KiB each, as hyper reads them) buffered between download and reader.
const CHANNEL_CHUNKS: usize = 64;

/// Reads `response`'s body; no chunk for `idle` is a timeout. Errors name `what` and never a
/// URL (blob redirects carry signed query strings).
pub(crate) fn body_reader(response: reqwest::Response, idle: Duration, what: String) -> impl Read {
    let (sender, receiver) = mpsc::channel(CHANNEL_CHUNKS);
    tokio::spawn(forward(response, idle, what, sender));
    ChannelReader {
        receiver,
        current: Bytes::new(),
        done: false,
    }
}

async fn forward(
    mut response: reqwest::Response,
    idle: Duration,
    what: String,
    sender: mpsc::Sender<Result<Bytes, ImageError>>,
) {
    loop {
        let item = match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => Err(ImageError::Timeout {
                what: what.clone(),
                after: idle,
            }),
            Ok(Err(e)) => Err(ImageError::Network {
                what: what.clone(),
                detail: format!("the download broke off ({})", root_cause(e)),
            }),
            Ok(Ok(None)) => return,
            Ok(Ok(Some(chunk))) => Ok(chunk),
        };
        let failed = item.is_err();
        // The reader stopped (an error, or a limit): stop downloading.
        if sender.send(item).await.is_err() || failed {
            return;
        }
    }
}

fn root_cause(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text = cause.to_string();
        source = cause.source();
    }
    text
}

struct ChannelReader {
    receiver: mpsc::Receiver<Result<Bytes, ImageError>>,
    current: Bytes,
    done: bool,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.receiver.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(fault(e)),
                None => self.done = true,
            }
        }
        let n = out.len().min(self.current.len());
        out[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}
