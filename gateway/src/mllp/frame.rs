//! MLLP framing: each message travels as `0x0B <message> 0x1C 0x0D`. The reader finds frames in
//! a byte stream with a size limit, an idle timeout between frames and a deadline for a frame
//! once it has started (a slow or stalled sender cannot hold a connection open forever).

use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{timeout_at, Instant};

/// Start block (VT).
pub const START: u8 = 0x0B;
/// End block (FS), followed by [`CARRIAGE_RETURN`].
pub const END: u8 = 0x1C;
/// The byte after [`END`].
pub const CARRIAGE_RETURN: u8 = 0x0D;

/// Why no frame could be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The frame grew past the configured limit; the connection is closed.
    #[error("MLLP frame over the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// No new frame started within the idle timeout.
    #[error("connection idle for longer than {0:?}")]
    Idle(Duration),
    /// A started frame was not finished in time.
    #[error("frame not finished within {0:?}")]
    Stalled(Duration),
    /// The sender closed the connection in the middle of a frame; the partial frame is dropped.
    #[error("connection closed inside a frame ({0} bytes dropped)")]
    ClosedMidFrame(usize),
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}

/// Limits applied while reading frames.
#[derive(Debug, Clone, Copy)]
pub struct FrameLimits {
    /// Largest message inside one frame.
    pub max_frame_bytes: usize,
    /// Longest wait for the next frame to start.
    pub idle_timeout: Duration,
    /// Longest time from a frame's start byte to its end.
    pub frame_timeout: Duration,
}

/// Reads MLLP frames from a byte stream.
pub struct FrameReader<R> {
    source: R,
    buffer: Vec<u8>,
    limits: FrameLimits,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader over `source`.
    pub fn new(source: R, limits: FrameLimits) -> Self {
        FrameReader {
            source,
            buffer: Vec::with_capacity(8 * 1024),
            limits,
        }
    }

    /// The next frame's message bytes, or `None` when the sender closed the connection
    /// cleanly between frames. Bytes outside frames are skipped.
    pub async fn next_frame(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let idle_deadline = Instant::now() + self.limits.idle_timeout;
        let mut frame_deadline: Option<Instant> = None;
        let mut scanned = 0;
        loop {
            match self.buffer.iter().position(|byte| *byte == START) {
                None => self.buffer.clear(),
                Some(start) => {
                    if start > 0 {
                        self.buffer.drain(..start);
                        scanned = 0;
                    }
                    frame_deadline
                        .get_or_insert_with(|| Instant::now() + self.limits.frame_timeout);
                    if let Some(end) = find_end(&self.buffer, scanned.max(1)) {
                        if end - 1 > self.limits.max_frame_bytes {
                            return Err(FrameError::TooLarge {
                                limit: self.limits.max_frame_bytes,
                            });
                        }
                        let message = self.buffer[1..end].to_vec();
                        self.buffer.drain(..end + 2);
                        return Ok(Some(message));
                    }
                    scanned = self.buffer.len().saturating_sub(1).max(1);
                    if self.buffer.len() > self.limits.max_frame_bytes + 2 {
                        return Err(FrameError::TooLarge {
                            limit: self.limits.max_frame_bytes,
                        });
                    }
                }
            }
            let (deadline, expired) = match frame_deadline {
                Some(deadline) => (deadline, FrameError::Stalled(self.limits.frame_timeout)),
                None => (idle_deadline, FrameError::Idle(self.limits.idle_timeout)),
            };
            let mut chunk = [0u8; 16 * 1024];
            let read = match timeout_at(deadline, self.source.read(&mut chunk)).await {
                Ok(read) => read?,
                Err(_) => return Err(expired),
            };
            if read == 0 {
                return match frame_deadline {
                    Some(_) => Err(FrameError::ClosedMidFrame(self.buffer.len())),
                    None => Ok(None),
                };
            }
            self.buffer.extend_from_slice(&chunk[..read]);
        }
    }
}

/// Position of `0x1C 0x0D` at or after `from`.
fn find_end(buffer: &[u8], from: usize) -> Option<usize> {
    let from = from.min(buffer.len());
    buffer[from..]
        .windows(2)
        .position(|pair| pair == [END, CARRIAGE_RETURN])
        .map(|offset| from + offset)
}

/// `message` wrapped in a frame.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(message.len() + 3);
    frame.push(START);
    frame.extend_from_slice(message);
    frame.extend_from_slice(&[END, CARRIAGE_RETURN]);
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize) -> FrameLimits {
        FrameLimits {
            max_frame_bytes: max,
            idle_timeout: Duration::from_secs(5),
            frame_timeout: Duration::from_secs(5),
        }
    }

    async fn frames_of(bytes: &[u8], max: usize) -> (Vec<Vec<u8>>, Option<FrameError>) {
        let mut reader = FrameReader::new(bytes, limits(max));
        let mut frames = Vec::new();
        loop {
            match reader.next_frame().await {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => return (frames, None),
                Err(error) => return (frames, Some(error)),
            }
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime")
    }

    #[test]
    fn frames_split_from_one_stream_and_junk_between_is_skipped() {
        let mut stream = framed(b"MSH|one");
        stream.extend_from_slice(b"\r\njunk");
        stream.extend(framed(b"MSH|two\x1cinside"));
        let (frames, error) = runtime().block_on(frames_of(&stream, 1024));
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            frames,
            vec![b"MSH|one".to_vec(), b"MSH|two\x1cinside".to_vec()]
        );
    }

    #[test]
    fn a_partial_frame_at_close_is_reported_not_delivered() {
        let mut stream = framed(b"MSH|one");
        stream.extend_from_slice(b"\x0bMSH|half");
        let (frames, error) = runtime().block_on(frames_of(&stream, 1024));
        assert_eq!(frames.len(), 1);
        assert!(
            matches!(error, Some(FrameError::ClosedMidFrame(9))),
            "{error:?}"
        );
    }

    #[test]
    fn an_oversized_frame_is_refused() {
        let stream = framed(&[b'A'; 100]);
        let (frames, error) = runtime().block_on(frames_of(&stream, 99));
        assert!(frames.is_empty());
        assert!(
            matches!(error, Some(FrameError::TooLarge { limit: 99 })),
            "{error:?}"
        );
        let (frames, error) = runtime().block_on(frames_of(&stream, 100));
        assert_eq!(frames.len(), 1);
        assert!(error.is_none());
    }
}
