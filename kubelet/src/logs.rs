//! Container logs in CRI format (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`), read as
//! `kubectl logs` asks: tailLines, sinceSeconds/sinceTime, timestamps, limitBytes, follow.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

/// One CRI log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub time: &'a str,
    pub stream: &'a str,
    /// A partial record (tag P): the line continues in the next record.
    pub partial: bool,
    pub text: &'a [u8],
}

/// Parses one line of a CRI log file (without its newline).
pub fn parse(line: &[u8]) -> Option<Record<'_>> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?).ok()?;
    let stream = std::str::from_utf8(parts.next()?).ok()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or_default();
    Some(Record { time, stream, partial: tag.first() == Some(&b'P'), text })
}

/// `kubectl logs` options, from the kubelet's containerLogs query string.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Options {
    pub follow: bool,
    pub tail_lines: Option<usize>,
    pub timestamps: bool,
    /// Only records at or after this instant.
    pub since: Option<jiff::Timestamp>,
    pub limit_bytes: Option<usize>,
    pub previous: bool,
}

fn truthy(v: &str) -> bool {
    matches!(v, "true" | "1" | "True")
}

impl Options {
    pub fn from_query(pairs: &[(String, String)], now: jiff::Timestamp) -> Options {
        let mut o = Options::default();
        for (k, v) in pairs {
            match k.as_str() {
                "follow" => o.follow = truthy(v),
                "timestamps" => o.timestamps = truthy(v),
                "previous" => o.previous = truthy(v),
                "tailLines" => o.tail_lines = v.parse().ok(),
                "limitBytes" => o.limit_bytes = v.parse().ok(),
                "sinceSeconds" => o.since = v.parse::<i64>().ok().map(|s| now - jiff::SignedDuration::from_secs(s)),
                "sinceTime" => o.since = v.parse().ok(),
                _ => {}
            }
        }
        o
    }
}

/// One record as kubectl shows it: the text (a newline unless partial), after the timestamp
/// when asked. None if it is before `since`.
pub fn render(r: &Record, o: &Options) -> Option<Vec<u8>> {
    if let Some(since) = o.since {
        let t: jiff::Timestamp = r.time.parse().ok()?;
        if t < since {
            return None;
        }
    }
    let mut out = Vec::with_capacity(r.text.len() + 40);
    if o.timestamps {
        out.extend_from_slice(r.time.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(r.text);
    if !r.partial {
        out.push(b'\n');
    }
    Some(out)
}

/// The rendered contents of a whole log file, honouring tailLines (counted in full lines).
pub fn render_file(data: &[u8], o: &Options) -> Vec<u8> {
    let lines: Vec<&[u8]> = data.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
    let start = match o.tail_lines {
        Some(n) => first_of_last_lines(&lines, n),
        None => 0,
    };
    lines[start..].iter().filter_map(|l| parse(l)).filter_map(|r| render(&r, o)).flatten().collect()
}

/// Index of the first record of the last `n` full lines (partial records join their line).
fn first_of_last_lines(lines: &[&[u8]], n: usize) -> usize {
    let mut full = 0;
    let mut i = lines.len();
    while i > 0 {
        let partial = parse(lines[i - 1]).is_some_and(|r| r.partial);
        if !partial {
            if full == n {
                return i;
            }
            full += 1;
        }
        i -= 1;
    }
    0
}

/// The last lines of a log as plain text (for FallbackToLogsOnError messages).
pub fn tail_text(path: &Path, lines: usize, max_bytes: usize) -> String {
    let data = std::fs::read(path).unwrap_or_default();
    let o = Options { tail_lines: Some(lines), ..Default::default() };
    let text = render_file(&data, &o);
    let start = text.len().saturating_sub(max_bytes);
    String::from_utf8_lossy(&text[start..]).into_owned()
}

/// Streams a log into `tx`: what is there now, then (follow) what is appended until `alive`
/// says the container stopped and the file is drained. limitBytes cuts the stream.
pub async fn stream(
    path: std::path::PathBuf,
    o: Options,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    alive: impl Fn() -> futures::future::BoxFuture<'static, bool>,
) {
    let data = tokio::fs::read(&path).await.unwrap_or_default();
    let mut budget = o.limit_bytes.unwrap_or(usize::MAX);
    let first = render_file(&data, &o);
    if !send(&tx, first, &mut budget).await || !o.follow {
        return;
    }
    let Ok(mut file) = tokio::fs::File::open(&path).await else { return };
    let mut pos = data.len() as u64;
    let mut pending: Vec<u8> = Vec::new();
    let follow = Options { tail_lines: None, ..o };
    loop {
        let _ = file.seek(std::io::SeekFrom::Start(pos)).await;
        let mut chunk = Vec::new();
        let n = file.read_to_end(&mut chunk).await.unwrap_or(0);
        pos += n as u64;
        pending.extend_from_slice(&chunk);
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let complete: Vec<u8> = pending.drain(..=end).collect();
            if !send(&tx, render_file(&complete, &follow), &mut budget).await {
                return;
            }
        }
        if n == 0 {
            if !alive().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

async fn send(tx: &mpsc::Sender<Result<Bytes, std::io::Error>>, mut data: Vec<u8>, budget: &mut usize) -> bool {
    if data.is_empty() {
        return *budget > 0;
    }
    data.truncate(*budget);
    *budget -= data.len();
    tx.send(Ok(Bytes::from(data))).await.is_ok() && *budget > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &[u8] = b"2024-01-01T00:00:01.000000001Z stdout F hi\n2024-01-01T00:00:02.5Z stderr P par\n2024-01-01T00:00:02.6Z stderr F tial\n2024-01-01T00:00:03Z stdout F bye\n";

    #[test]
    fn a_cri_log_line_is_split_into_time_stream_tag_and_text() {
        let r = parse(b"2024-01-01T00:00:01Z stdout F hello world").unwrap_or_else(|| panic!("parsed"));
        assert_eq!(
            (r.time, r.stream, r.partial, r.text),
            ("2024-01-01T00:00:01Z", "stdout", false, &b"hello world"[..])
        );
    }

    #[test]
    fn logs_are_shown_without_the_cri_prefix_and_partial_lines_are_joined() {
        let out = render_file(LOG, &Options::default());
        assert_eq!(out, b"hi\npartial\nbye\n");
    }

    #[test]
    fn timestamps_true_keeps_the_time_of_each_record() {
        let o = Options { timestamps: true, tail_lines: Some(1), ..Default::default() };
        assert_eq!(render_file(LOG, &o), b"2024-01-01T00:00:03Z bye\n");
    }

    #[test]
    fn tail_lines_counts_full_lines() {
        let o = Options { tail_lines: Some(2), ..Default::default() };
        assert_eq!(render_file(LOG, &o), b"partial\nbye\n");
        let none = Options { tail_lines: Some(0), ..Default::default() };
        assert!(render_file(LOG, &none).is_empty());
    }

    #[test]
    fn since_time_drops_older_records() {
        let since: jiff::Timestamp = "2024-01-01T00:00:02.55Z".parse().unwrap_or_else(|e| panic!("{e}"));
        let o = Options { since: Some(since), ..Default::default() };
        assert_eq!(render_file(LOG, &o), b"tial\nbye\n");
    }

    #[test]
    fn the_query_string_sets_the_options() {
        let q = vec![
            ("follow".to_string(), "true".to_string()),
            ("tailLines".into(), "5".into()),
            ("limitBytes".into(), "10".into()),
        ];
        let o = Options::from_query(&q, jiff::Timestamp::UNIX_EPOCH);
        assert!(o.follow);
        assert_eq!(o.tail_lines, Some(5));
        assert_eq!(o.limit_bytes, Some(10));
    }
}
